import Foundation
import Warren

/// Compact children's bitmaps (``ChildSlots``) in `warren_batch_slots` (schema version 7): one row per batch
/// and chunk of 4,096 children. Registering reads and rewrites them in the ledger's transaction; a group
/// commit's outcomes do too on SQLite, and on PostgreSQL in one statement that combines the bitmaps on the
/// server (``finishInOneStatement``). Lock order, as for every ledger transaction: a batch's slot
/// rows (PostgreSQL: `FOR UPDATE`, by chunk), then its children's rows, then its `warren_batches` row; so
/// concurrent workers wait for each other instead of deadlocking.
enum BatchSlots {
    /// `BYTEA`, which SQLite's affinity rules keep as the BLOB it is given (an empty bitmap is `NULL`);
    /// PostgreSQL's own migration makes the bitmaps `bit varying` (``SlotFormat``).
    static let schema = """
        CREATE TABLE warren_batch_slots (
            batch_id TEXT NOT NULL,
            chunk BIGINT NOT NULL,
            registered BYTEA,
            succeeded BYTEA,
            dead BYTEA,
            finished_at BIGINT,
            PRIMARY KEY (batch_id, chunk)
        )
        """

    /// Creates missing rows (empty), so that two registrations of the same new chunk wait for each other
    /// at the lock below instead of both inserting. Binds: (batch, chunk) per row.
    static func ensure(count: Int) -> String {
        "INSERT INTO warren_batch_slots (batch_id, chunk) VALUES " + Array(repeating: "(?, ?)", count: count).joined(separator: ", ")
            + " ON CONFLICT (batch_id, chunk) DO NOTHING"
    }

    /// Reads (and locks, with `lock`) chunks of a batch. Binds: batch, the chunks.
    static func read(count: Int, lock: String) -> String {
        "SELECT chunk, registered, succeeded, dead, finished_at FROM warren_batch_slots WHERE batch_id = ? AND chunk IN ("
            + Array(repeating: "?", count: count).joined(separator: ", ") + ") ORDER BY chunk" + lock
    }

    /// Writes chunks whole. Binds: (batch, chunk, registered, succeeded, dead, finished) per row.
    static func write(count: Int) -> String {
        "INSERT INTO warren_batch_slots (batch_id, chunk, registered, succeeded, dead, finished_at) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: count).joined(separator: ", ")
            + " ON CONFLICT (batch_id, chunk) DO UPDATE SET registered = excluded.registered, succeeded = excluded.succeeded,"
            + " dead = excluded.dead, finished_at = excluded.finished_at"
    }

    /// Chunks of a batch from one on, in order. Binds: batch, first chunk, limit.
    static let page = "SELECT chunk, registered, succeeded, dead, finished_at FROM warren_batch_slots WHERE batch_id = ? AND chunk >= ? ORDER BY chunk LIMIT ?"
    /// Whether a batch keeps slots. Binds: batch.
    static let any = "SELECT 1 AS one FROM warren_batch_slots WHERE batch_id = ? LIMIT 1"
    /// Whether a batch has children's rows. Binds: batch.
    static let anyRows = "SELECT 1 AS one FROM warren_batch_children WHERE batch_id = ? LIMIT 1"
    /// The latest finish of a batch's compact children. Binds: batch.
    static let finishedAt = "SELECT max(finished_at) AS at FROM warren_batch_slots WHERE batch_id = ?"
    /// Up to `?` chunks of a batch. Binds: batch, batch, limit.
    static let delete = """
        DELETE FROM warren_batch_slots WHERE batch_id = ? AND chunk IN (SELECT chunk FROM warren_batch_slots WHERE batch_id = ? LIMIT ?)
        RETURNING chunk
        """

    /// A chunk as stored.
    struct Row {
        var chunk: SlotChunk
        var finishedAt: Int64?
    }

    /// PostgreSQL: records a group commit's outcomes of one batch's compact children in one atomic
    /// statement: the same rules as ``SlotChunk/finish(succeeded:dead:)`` (successes first, only registered
    /// slots without an outcome), computed by the server on the rows it locks, then counted in the batch's
    /// row; returns that row and whether the batch keeps slots at all (if not, its compact children are
    /// rows: ``SQLBatchLedger/keepsCompactChildrenAsRows(_:on:)``). One text whatever the commit holds, run
    /// as a prepared statement (``PostgresPrepared``): parsing, analysing and planning it afresh was about
    /// half of the server's CPU per commit. Binds (``finishBinds(succeeded:dead:in:at:)``): the chunks,
    /// their succeeded and dead masks (`bit varying`, ``SlotBits/varbit``) as three arrays, batch, time.
    static let finishInOneStatement = """
        WITH m (chunk, ok, dead) AS (SELECT * FROM unnest(?::bigint[], ?::bit varying[], ?::bit varying[])),
        b AS (SELECT ?::text AS id, ?::bigint AS now),
        o AS (
            SELECT s.chunk, m.ok & s.registered & ~(s.succeeded | s.dead) AS ok, m.dead & ~m.ok & s.registered & ~(s.succeeded | s.dead) AS dead
            FROM warren_batch_slots s JOIN m ON s.chunk = m.chunk, b WHERE s.batch_id = b.id ORDER BY s.chunk FOR UPDATE OF s),
        u AS (
            UPDATE warren_batch_slots s SET succeeded = s.succeeded | o.ok, dead = s.dead | o.dead, finished_at = b.now
            FROM o, b WHERE s.batch_id = b.id AND s.chunk = o.chunk AND bit_count(o.ok) + bit_count(o.dead) > 0
            RETURNING bit_count(o.ok) AS ok, bit_count(o.dead) AS dead)
        UPDATE warren_batches SET pending = pending - (SELECT coalesce(sum(ok + dead), 0) FROM u),
            succeeded = succeeded + (SELECT coalesce(sum(ok), 0) FROM u), dead = dead + (SELECT coalesce(sum(dead), 0) FROM u)
        FROM b WHERE warren_batches.id = b.id
        RETURNING warren_batches.*, (EXISTS (SELECT 1 FROM warren_batch_slots s, b WHERE s.batch_id = b.id))::int AS slotted
        """

    /// The binds of ``finishInOneStatement``.
    static func finishBinds(succeeded ok: [Int], dead: [Int], in batch: String, at now: Date) -> [SQLValue] {
        let m = Masks(succeeded: ok, dead: dead)
        return [PostgresColumns.array(.bigint, m.chunks.map { PostgresColumns.bigint(Int64($0)) }),
                PostgresColumns.array(.varbit, m.chunks.map { m.succeeded($0).varbit }),
                PostgresColumns.array(.varbit, m.chunks.map { m.dead($0).varbit }),
                .text(batch), .time(now)]
    }

    /// A commit's outcomes of compact children as masks by chunk.
    struct Masks {
        private let ok: [Int: SlotBits]
        private let deads: [Int: SlotBits]
        /// The chunks any outcome falls in, ascending.
        let chunks: [Int]

        init(succeeded: [Int], dead: [Int]) {
            ok = Dictionary(uniqueKeysWithValues: ChildSlots.byChunk(succeeded).map { ($0.chunk, $0.bits) })
            deads = Dictionary(uniqueKeysWithValues: ChildSlots.byChunk(dead).map { ($0.chunk, $0.bits) })
            chunks = Set(ok.keys).union(deads.keys).sorted()
        }

        func succeeded(_ chunk: Int) -> SlotBits { ok[chunk] ?? SlotBits() }
        func dead(_ chunk: Int) -> SlotBits { deads[chunk] ?? SlotBits() }
    }

    /// Registers `slots` of `batch`; returns how many were new.
    static func register(_ slots: [Int], in batch: String, on s: any SQLSession, of backend: any SQLBackend) async throws(StoreError) -> Int {
        let masks = ChildSlots.byChunk(slots)
        guard !masks.isEmpty else { return 0 }
        var added = 0
        for part in masks.chunked(by: SQLJobStore.chunk / 6) {  // six binds a row
            try await s.run(ensure(count: part.count), part.flatMap { [.text(batch), .int($0.chunk)] })
            var rows = try await read(batch, part.map(\.chunk), on: s, lock: backend.rowLock)
            for (chunk, bits) in part { added += rows[chunk, default: Row(chunk: SlotChunk())].chunk.register(bits) }
            try await store(rows, of: batch, on: s, as: backend.slotFormat)
        }
        return added
    }

    /// Records outcomes of `batch`'s slots at `now` (successes first, the first outcome wins); returns how
    /// many newly succeeded and died, and the slots this batch has no bit for, by outcome (left for the
    /// children's rows: a batch registered before schema version 7 keeps every child as a row).
    static func finish(succeeded ok: [Int], dead: [Int], in batch: String, at now: Date, on s: any SQLSession,
                       of backend: any SQLBackend) async throws(StoreError) -> (succeeded: Int, dead: Int, unregistered: (succeeded: [Int], dead: [Int])) {
        let masks = Masks(succeeded: ok, dead: dead)
        var counts = (succeeded: 0, dead: 0)
        var left = (succeeded: [Int](), dead: [Int]())
        for part in masks.chunks.chunked(by: SQLJobStore.chunk / 6) {
            let rows = try await read(batch, part, on: s, lock: backend.rowLock)
            var changed: [Int: Row] = [:]
            for chunk in part {
                let (o, d) = (masks.succeeded(chunk), masks.dead(chunk))
                var row = rows[chunk] ?? Row(chunk: SlotChunk())
                let r = row.chunk.finish(succeeded: o, dead: d)
                counts.succeeded += r.succeeded.count
                counts.dead += r.dead.count
                left.succeeded += o.intersection(r.unregistered).slots.map { chunk * ChildSlots.perChunk + $0 }
                left.dead += d.subtracting(o).intersection(r.unregistered).slots.map { chunk * ChildSlots.perChunk + $0 }
                guard rows[chunk] != nil, !(r.succeeded.isEmpty && r.dead.isEmpty) else { continue }
                row.finishedAt = SQLValue.millis(now)
                changed[chunk] = row
            }
            try await store(changed, of: batch, on: s, as: backend.slotFormat)
        }
        return (counts.succeeded, counts.dead, left)
    }

    /// `batch`'s chunks `chunks` that exist, locked with `lock`.
    static func read(_ batch: String, _ chunks: [Int], on s: any SQLSession, lock: String) async throws(StoreError) -> [Int: Row] {
        let rows = try await s.run(read(count: chunks.count, lock: lock), [.text(batch)] + chunks.map { .int($0) })
        return Dictionary(rows.map(row), uniquingKeysWith: { a, _ in a })
    }

    /// A stored row as (chunk, row).
    static func row(_ r: SQLRow) -> (Int, Row) {
        (r.int("chunk") ?? 0, Row(chunk: SlotChunk(registered: SlotBits(stored: r.values["registered"]), succeeded: SlotBits(stored: r.values["succeeded"]),
                                                   dead: SlotBits(stored: r.values["dead"])),
                                  finishedAt: r.int("finished_at").map(Int64.init)))
    }

    private static func store(_ rows: [Int: Row], of batch: String, on s: any SQLSession, as format: SlotFormat) async throws(StoreError) {
        guard !rows.isEmpty else { return }
        let binds = rows.sorted { $0.key < $1.key }.flatMap { chunk, row -> [SQLValue] in
            [.text(batch), .int(chunk), row.chunk.registered.value(format), row.chunk.succeeded.value(format), row.chunk.dead.value(format),
             row.finishedAt.map { .int($0) } ?? .null]
        }
        try await s.run(write(count: rows.count), binds)
    }
}
