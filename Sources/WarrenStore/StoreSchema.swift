/// The store's schema, one migration per version; documented in docs/store.md. Types are chosen to mean
/// the same on SQLite (by affinity) and PostgreSQL: TEXT, BIGINT (times: ms since 1970), DOUBLE PRECISION.
enum StoreSchema {
    /// Each version's statements; version N is `migrations[N - 1]`.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE warren_jobs (
                id TEXT PRIMARY KEY,
                name TEXT,
                queue TEXT,
                state TEXT NOT NULL,
                state_rank BIGINT NOT NULL,
                attempt BIGINT NOT NULL,
                worker TEXT,
                enqueued_at BIGINT,
                run_at BIGINT,
                started_at BIGINT,
                finished_at BIGINT,
                updated_at BIGINT NOT NULL,
                heartbeat_at BIGINT,
                progress DOUBLE PRECISION,
                progress_message TEXT,
                result TEXT,
                last_error TEXT,
                dead_reason TEXT,
                unique_key TEXT
            )
            """,
            "CREATE INDEX warren_jobs_state_updated ON warren_jobs (state, updated_at)",
            "CREATE INDEX warren_jobs_queue_updated ON warren_jobs (queue, updated_at)",
            "CREATE INDEX warren_jobs_finished ON warren_jobs (finished_at)",
            """
            CREATE TABLE warren_unique_keys (
                key TEXT PRIMARY KEY,
                job_id TEXT NOT NULL,
                release_on TEXT NOT NULL,
                acquired_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX warren_unique_keys_expires ON warren_unique_keys (expires_at)",
        ],
        BatchStatements.schema,
        // Version 3: recent batches by creation (the batches list) and the sweep's oldest-first scan.
        ["CREATE INDEX warren_batches_created ON warren_batches (created_at)"],
        // Version 4: the sweeper reads finished rows through (state, updated_at): an index less to update per job.
        ["DROP INDEX IF EXISTS warren_jobs_finished"],
        // Version 5: nothing shared; PostgreSQL leaves room in batch children's pages (``postgresOnly``).
        [],
        // Version 6: nothing shared; PostgreSQL compares the key columns bytewise (``postgresOnly``).
        [],
        // Version 7: compact batch children as bits of their batch's slot bitmaps (``BatchSlots``, ``ChildSlots``).
        [BatchSlots.schema],
    ]

    /// Statements of a version that only PostgreSQL runs, after the shared ones.
    ///
    /// Version 5: `warren_batch_children` pages are filled to half (fillfactor 50, for pages written from
    /// now on), so recording a child's outcome can write its new row version into the same page (a HOT
    /// update) instead of another page plus a new primary-key index entry: about half the work and WAL
    /// per child at a batch's group commit. SQLite updates rows in place and has no such setting.
    ///
    /// Version 6: the columns the store looks rows up by, and sorts its indexes by, compare bytewise
    /// (`COLLATE "C"`) instead of by the database's collation. With any other collation (Debian's default
    /// databases are `C.UTF-8` or `en_US.UTF-8`) PostgreSQL compares two texts through the C library's
    /// `strcoll`: every step down the primary key at every group commit, and every comparison of the
    /// `(state, ...)` and `(queue, ...)` indexes. Ids, states and queue names are identifiers: their order
    /// means nothing to users (lists are ordered by time), only equality does, and bytewise equality is the
    /// same. The indexes on these columns are rebuilt (the tables are not rewritten); the statement holds
    /// its table's lock meanwhile, about 2 s per million jobs on the benchmark machine.
    /// SQLite compares bytewise already.
    ///
    /// Version 7: `warren_batch_slots` compares its batch ids bytewise too, leaves half of each page free, so
    /// that rewriting a chunk's bitmaps at a group commit stays in its page (a HOT update), and keeps its
    /// bitmaps as `bit varying` (``SlotFormat/varbit``), which the server combines itself.
    static let postgresOnly: [Int: [String]] = [
        5: ["ALTER TABLE warren_batch_children SET (fillfactor = 50)"],
        6: [
            bytewise("warren_jobs", ["id", "state", "queue"]),
            bytewise("warren_batches", ["id"]),
            bytewise("warren_batch_children", ["batch_id", "child_id"]),
            bytewise("warren_batch_claims", ["batch_id", "what"]),
            bytewise("warren_unique_keys", ["key"]),
        ],
        7: [bytewise("warren_batch_slots", ["batch_id"]), "ALTER TABLE warren_batch_slots SET (fillfactor = 50)",
            "ALTER TABLE warren_batch_slots " + ["registered", "succeeded", "dead"].map { "ALTER COLUMN \($0) TYPE bit varying USING NULL" }.joined(separator: ", ")],
    ]

    /// Gives `table`'s text `columns` bytewise comparison (PostgreSQL).
    static func bytewise(_ table: String, _ columns: [String]) -> String {
        "ALTER TABLE \(table) " + columns.map { "ALTER COLUMN \($0) TYPE text COLLATE \"C\"" }.joined(separator: ", ")
    }

    /// The version this build creates.
    static var version: Int { migrations.count }

    /// The columns of `warren_jobs` a ``JobUpdate`` writes, in bind order.
    static let updateColumns = [
        "id", "name", "queue", "state", "state_rank", "attempt", "worker", "enqueued_at", "run_at", "started_at",
        "finished_at", "updated_at", "heartbeat_at", "progress", "progress_message", "result", "last_error",
        "dead_reason", "unique_key",
    ]
}
