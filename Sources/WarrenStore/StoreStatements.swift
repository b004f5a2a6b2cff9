import Foundation
import Synchronization
import Warren

/// The store's SQL text and the mapping between rows and Warren's types.
enum StoreStatements {
    /// Multi-row upsert of ``JobUpdate``s: a row replaces the stored one only at an equal or higher
    /// `(attempt, state_rank)` (``JobState/replaces(_:attempt:storedAttempt:)``); absent fields keep theirs.
    static func upsert(rows: Int) -> String {
        if let cached = upserts.withLock({ $0[rows] }) { return cached }
        let sql = makeUpsert(rows: rows)
        upserts.withLock { $0[rows] = sql }
        return sql
    }

    /// Upsert text by row count (at most ``SQLJobStore/chunk`` entries).
    private static let upserts = Mutex<[Int: String]>([:])

    private static func makeUpsert(rows: Int) -> String {
        let row = "(" + Array(repeating: "?", count: StoreSchema.updateColumns.count).joined(separator: ", ") + ")"
        return """
            INSERT INTO warren_jobs (\(StoreSchema.updateColumns.joined(separator: ", "))) VALUES \(Array(repeating: row, count: rows).joined(separator: ", "))
            \(onConflict)
            """
    }

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

    /// Appends the binds of one update to `out`, in ``StoreSchema/updateColumns`` order (no array per row:
    /// a group commit's binds go into one).
    static func appendBinds(_ u: JobUpdate, to out: inout [SQLValue]) {
        out.append(.text(u.id))
        out.append(.text(u.name))
        out.append(.text(u.queue))
        out.append(.text(u.state.rawValue))
        out.append(.int(u.state.rank))
        out.append(.int(u.attempt))
        out.append(.text(u.worker))
        out.append(.time(u.enqueuedAt))
        out.append(.time(u.runAt))
        out.append(.time(u.startedAt))
        out.append(.time(u.finishedAt))
        out.append(.time(u.at))
        out.append(.time(u.state == .running ? u.at : nil))
        out.append(.double(u.progress))
        out.append(.text(u.progressMessage))
        out.append(.text(u.result))
        out.append(.text(u.lastError))
        out.append(.text(u.deadReason))
        out.append(.text(u.uniqueKey))
    }

    /// The binds of `updates`, ``StoreSchema/updateColumns`` per row.
    static func binds(_ updates: some Collection<JobUpdate>) -> [SQLValue] {
        var out: [SQLValue] = []
        out.reserveCapacity(updates.count * StoreSchema.updateColumns.count)
        for u in updates { appendBinds(u, to: &out) }
        return out
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
