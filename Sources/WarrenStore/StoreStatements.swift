import Foundation
import Synchronization
import Warren

/// The store's SQL text and the mapping between rows and Warren's types.
enum StoreStatements {
    /// Multi-row upsert of `updates` (ids unique: ``JobUpdate/coalesce(_:)`` ran): a row replaces the stored
    /// one only at an equal or higher `(attempt, state_rank)` (``JobState/replaces(_:attempt:storedAttempt:)``);
    /// absent fields keep theirs.
    ///
    /// Only the columns some row sets are named (with the ones every row has): an omitted column is `NULL`
    /// in `excluded`, exactly as a bound `NULL` would be, so ``onConflict`` treats both alike. A short job's
    /// row sets 11 of the 19, and SQLite parses the statement's text and takes every bind anew at each group
    /// commit (the driver keeps no prepared statement): the narrower text costs it about a third less.
    static func upsert<C: Collection<JobUpdate>>(_ updates: C) -> (sql: String, binds: [SQLValue]) {
        let width = StoreSchema.updateColumns.count
        var all: [SQLValue] = []
        all.reserveCapacity(updates.count * width)
        for u in updates { write(u, to: &all) }  // one array for the group commit's binds, none per row
        var mask = requiredColumns
        for (i, v) in all.enumerated() where !v.isNull { mask |= 1 << UInt32(i % width) }
        let shape = UpsertShape(rows: updates.count, columns: mask)
        guard mask != allColumns else { return (sql(for: shape), all) }
        var binds: [SQLValue] = []
        binds.reserveCapacity(updates.count * mask.nonzeroBitCount)
        for (i, v) in all.enumerated() where mask & (1 << UInt32(i % width)) != 0 { binds.append(v) }
        return (sql(for: shape), binds)
    }

    /// Row count and named columns (bit `i`: ``StoreSchema/updateColumns``[i]) of an upsert's text.
    struct UpsertShape: Hashable {
        let rows: Int
        let columns: UInt32
    }

    /// Columns every row binds (`NOT NULL`): id, state, state_rank, attempt, updated_at.
    private static let requiredColumns: UInt32 = ["id", "state", "state_rank", "attempt", "updated_at"].reduce(0) {
        $0 | 1 << UInt32(StoreSchema.updateColumns.firstIndex(of: $1)!)
    }
    private static let allColumns: UInt32 = (1 << UInt32(StoreSchema.updateColumns.count)) - 1

    /// The text of an upsert of `shape`, made once. At most ``cacheLimit`` texts are kept (then the cache
    /// starts afresh): row counts are at most ``SQLJobStore/chunk`` and the column sets few, so it rarely fills.
    static func sql(for shape: UpsertShape) -> String {
        if let cached = upserts.withLock({ $0[shape] }) { return cached }
        let names = StoreSchema.updateColumns.indices.filter { shape.columns & (1 << UInt32($0)) != 0 }
            .map { StoreSchema.updateColumns[$0] }
        let row = "(" + Array(repeating: "?", count: names.count).joined(separator: ", ") + ")"
        let sql = """
            INSERT INTO warren_jobs (\(names.joined(separator: ", "))) VALUES \(Array(repeating: row, count: shape.rows).joined(separator: ", "))
            \(onConflict)
            """
        upserts.withLock {
            if $0.count >= cacheLimit { $0.removeAll() }
            $0[shape] = sql
        }
        return sql
    }

    private static let cacheLimit = 2_000
    private static let upserts = Mutex<[UpsertShape: String]>([:])

    /// What an upserted row does to the stored one (shared by ``PostgresColumns/upsert``).
    static let onConflict: String = {
        let keep = ["name", "queue", "worker", "run_at", "started_at", "finished_at", "heartbeat_at", "result",
                    "last_error", "dead_reason", "unique_key"]
        var sets = ["state = excluded.state", "state_rank = excluded.state_rank", "attempt = excluded.attempt",
                    "updated_at = excluded.updated_at", "enqueued_at = COALESCE(warren_jobs.enqueued_at, excluded.enqueued_at)"]
        sets += keep.map { "\($0) = COALESCE(excluded.\($0), warren_jobs.\($0))" }
        // A new attempt's progress starts afresh.
        sets += ["progress", "progress_message"].map {
            "\($0) = CASE WHEN excluded.attempt > warren_jobs.attempt THEN excluded.\($0) ELSE COALESCE(excluded.\($0), warren_jobs.\($0)) END"
        }
        return """
            ON CONFLICT (id) DO UPDATE SET \(sets.joined(separator: ", "))
            WHERE excluded.attempt > warren_jobs.attempt
               OR (excluded.attempt = warren_jobs.attempt AND excluded.state_rank >= warren_jobs.state_rank)
            """
    }()

    /// Gives `sink` the columns of one update, in ``StoreSchema/updateColumns`` order: the one place that
    /// says which field goes in which column (row binds, appended to an array of ``SQLValue``s, and
    /// ``PostgresColumns``' arrays both read it).
    static func write<Sink: JobRowSink>(_ u: JobUpdate, to sink: inout Sink) {
        sink.text(u.id)
        sink.text(u.name)
        sink.text(u.queue)
        sink.text(u.state.rawValue)
        sink.int(Int64(u.state.rank))
        sink.int(Int64(u.attempt))
        sink.text(u.worker)
        sink.int(u.enqueuedAt.map(SQLValue.millis))
        sink.int(u.runAt.map(SQLValue.millis))
        sink.int(u.startedAt.map(SQLValue.millis))
        sink.int(u.finishedAt.map(SQLValue.millis))
        sink.int(SQLValue.millis(u.at))
        sink.int(u.state == .running ? SQLValue.millis(u.at) : nil)
        sink.double(u.progress)
        sink.text(u.progressMessage)
        sink.text(u.result)
        sink.text(u.lastError)
        sink.text(u.deadReason)
        sink.text(u.uniqueKey)
    }

    static func heartbeat(count: Int) -> String {
        "UPDATE warren_jobs SET heartbeat_at = ? WHERE state = 'running' AND id IN ("
            + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
    }

    /// Takes a free or expired key; returns a row only when this job now holds it.
    static let claim = """
        INSERT INTO warren_unique_keys (key, job_id, release_on, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id, release_on = excluded.release_on,
            acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
        WHERE warren_unique_keys.expires_at <= excluded.acquired_at
        RETURNING job_id
        """

    /// Deletes finished rows of one state (bound first) older than a time, oldest first. A finished row's
    /// `updated_at` is its finish time (nothing writes it afterwards), so the `(state, updated_at)` index
    /// serves it in order; no index of its own on `finished_at` costs every insert.
    static let deleteFinished = """
        DELETE FROM warren_jobs WHERE id IN (
            SELECT id FROM warren_jobs WHERE state = ? AND updated_at < ? ORDER BY updated_at LIMIT ?)
        RETURNING id
        """

    /// The outer `state = 'running'` is re-checked on a row a worker changed meanwhile (PostgreSQL).
    static let markLost = """
        UPDATE warren_jobs SET state = 'lost', state_rank = 0, updated_at = ? WHERE state = 'running' AND id IN (
            SELECT id FROM warren_jobs WHERE state = 'running' AND COALESCE(heartbeat_at, updated_at) < ? LIMIT ?)
        RETURNING id
        """

    static let deleteExpiredKeys = """
        DELETE FROM warren_unique_keys WHERE key IN (SELECT key FROM warren_unique_keys WHERE expires_at <= ? LIMIT ?)
        RETURNING key
        """

    /// A `warren_jobs` row as a status.
    static func status(_ r: SQLRow) -> JobStatus {
        var s = JobStatus(id: r.string("id") ?? "", state: JobState(rawValue: r.string("state") ?? "") ?? .unknown,
                          attempt: r.int("attempt") ?? 0)
        s.name = r.string("name")
        s.queue = r.string("queue")
        s.worker = r.string("worker")
        s.progress = r.double("progress")
        s.progressMessage = r.string("progress_message")
        s.result = r.string("result")
        s.lastError = r.string("last_error")
        s.deadReason = r.string("dead_reason")
        s.uniqueKey = r.string("unique_key")
        s.enqueuedAt = r.time("enqueued_at")
        s.runAt = r.time("run_at")
        s.startedAt = r.time("started_at")
        s.finishedAt = r.time("finished_at")
        s.updatedAt = r.time("updated_at")
        return s
    }
}

/// Takes a ``JobUpdate``'s columns one after another (``StoreStatements/write(_:to:)``).
protocol JobRowSink {
    mutating func text(_ s: String?)
    mutating func int(_ i: Int64?)
    mutating func double(_ d: Double?)
}

/// Row binds.
extension Array: JobRowSink where Element == SQLValue {
    mutating func text(_ s: String?) { append(.text(s)) }
    mutating func int(_ i: Int64?) { append(i.map { .int($0) } ?? .null) }
    mutating func double(_ d: Double?) { append(.double(d)) }
}
