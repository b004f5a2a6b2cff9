/// The batch ledger's tables and SQL (schema version 2; docs/workflows.md, "Batches").
///
/// - `warren_batches`: one row per batch, its definition (JSON) and counters, changed only together with
///   the children rows they count, in one transaction;
/// - `warren_batch_children`: one row per child id, its outcome `NULL` until it finishes: the first
///   outcome recorded wins, so a child that runs twice counts once; a child named `<batch>.<k>` is a bit
///   of `warren_batch_slots` instead (schema version 7, ``BatchSlots``), under the same rules;
/// - `warren_batch_claims`: one row per callback (`success`, `complete`, `death`) or parent notice
///   (`parent`) being enqueued: taken by a conditional upsert (free, or its lease ran out and not done).
enum BatchStatements {
    static let schema = [
        """
        CREATE TABLE warren_batches (
            id TEXT PRIMARY KEY,
            definition TEXT NOT NULL,
            sealed BIGINT NOT NULL,
            pending BIGINT NOT NULL,
            succeeded BIGINT NOT NULL,
            dead BIGINT NOT NULL,
            created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE warren_batch_children (
            batch_id TEXT NOT NULL,
            child_id TEXT NOT NULL,
            outcome TEXT,
            finished_at BIGINT,
            PRIMARY KEY (batch_id, child_id)
        )
        """,
        """
        CREATE TABLE warren_batch_claims (
            batch_id TEXT NOT NULL,
            what TEXT NOT NULL,
            claimant TEXT NOT NULL,
            until_at BIGINT NOT NULL,
            done BIGINT NOT NULL,
            PRIMARY KEY (batch_id, what)
        )
        """,
    ]

    static let open = """
        INSERT INTO warren_batches (id, definition, sealed, pending, succeeded, dead, created_at) VALUES (?, ?, 0, 0, 0, 0, ?)
        ON CONFLICT (id) DO NOTHING
        """

    /// Registers children (those known already are skipped); returns the ids inserted.
    static func addChildren(count: Int) -> String {
        "INSERT INTO warren_batch_children (batch_id, child_id) VALUES "
            + Array(repeating: "(?, ?)", count: count).joined(separator: ", ")
            + " ON CONFLICT (batch_id, child_id) DO NOTHING RETURNING child_id"
    }

    /// Counts `?` new children as pending, only while the batch is open (not sealed with none pending).
    static let countAdded = """
        UPDATE warren_batches SET pending = pending + ? WHERE id = ? AND NOT (sealed = 1 AND pending = 0) RETURNING id
        """

    static let seal = "UPDATE warren_batches SET sealed = 1 WHERE id = ?"

    /// Records children's outcome where none is recorded; returns a row per child recorded. Binds: outcome,
    /// time, batch, then the child ids.
    static func finishChildren(count: Int) -> String {
        "UPDATE warren_batch_children SET outcome = ?, finished_at = ? WHERE batch_id = ? AND outcome IS NULL AND child_id IN ("
            + Array(repeating: "?", count: count).joined(separator: ", ") + ") RETURNING 1"
    }

    /// Moves children from pending to succeeded and dead; returns the batch's row. Binds: finished,
    /// succeeded, dead, batch.
    static let count = "UPDATE warren_batches SET pending = pending - ?, succeeded = succeeded + ?, dead = dead + ? WHERE id = ? RETURNING *"

    /// PostgreSQL: records succeeded and dead children and counts them in the batch, in one statement;
    /// returns the batch's row. Binds: time, batch, the succeeded ids, time, batch, the dead ids, batch.
    static func finishAndCount(succeeded: Int, dead: Int) -> String {
        func ids(_ n: Int) -> String { n == 0 ? "NULL" : Array(repeating: "?", count: n).joined(separator: ", ") }
        func update(_ outcome: String, _ n: Int) -> String {
            "UPDATE warren_batch_children SET outcome = '\(outcome)', finished_at = ? WHERE batch_id = ? AND outcome IS NULL "
                + "AND child_id IN (\(ids(n))) RETURNING 1"
        }
        return """
            WITH ok AS (\(update("succeeded", succeeded))), dead AS (\(update("dead", dead)))
            UPDATE warren_batches SET pending = pending - (SELECT count(*) FROM ok) - (SELECT count(*) FROM dead),
                succeeded = succeeded + (SELECT count(*) FROM ok), dead = dead + (SELECT count(*) FROM dead)
            WHERE id = ? RETURNING *
            """
    }

    /// Takes a claim that is free, or held under a lease that ran out and not done; returns a row only
    /// when this claimant holds it now. Binds: batch, what, claimant, until, now.
    static let claim = """
        INSERT INTO warren_batch_claims (batch_id, what, claimant, until_at, done) VALUES (?, ?, ?, ?, 0)
        ON CONFLICT (batch_id, what) DO UPDATE SET claimant = excluded.claimant, until_at = excluded.until_at
        WHERE warren_batch_claims.done = 0 AND warren_batch_claims.until_at <= ?
        RETURNING claimant
        """

    static let claimDone = "SELECT done FROM warren_batch_claims WHERE batch_id = ? AND what = ?"
    static let markDone = "UPDATE warren_batch_claims SET done = 1 WHERE batch_id = ? AND what = ?"
    static let batch = "SELECT * FROM warren_batches WHERE id = ?"
    static let doneClaims = "SELECT what FROM warren_batch_claims WHERE batch_id = ? AND done = 1"

    /// The claim row name of the parent notice.
    static let parentClaim = "parent"
}
