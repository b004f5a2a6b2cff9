import Foundation
import Warren

/// The ``JobStore`` over a SQL database: one implementation, the same statements, for SQLite and
/// PostgreSQL (``SQLiteStore``, ``PostgresStore`` open it with their backend).
final class SQLJobStore: JobStore {
    let backend: any SQLBackend
    /// Rows per multi-row INSERT (19 binds each: under both backends' limits).
    static let chunk = 500

    /// Batches, in the same database.
    let batchLedger: (any BatchLedger)?
    /// Reading batches, in the same database.
    let batchCatalog: (any BatchCatalog)?

    init(backend: any SQLBackend) {
        self.backend = backend
        self.batchLedger = SQLBatchLedger(backend: backend)
        self.batchCatalog = SQLBatchCatalog(backend: backend)
    }

    var location: String { backend.location }

    var concurrentWrites: Int { backend.concurrentWrites }

    @discardableResult
    func migrate() async throws(StoreError) -> (from: Int, to: Int) {
        let lock = backend.migrationLock
        let backend = self.backend
        return try await backend.transaction { s throws(StoreError) in
            if let lock { try await s.run(lock) }
            try await s.run("CREATE TABLE IF NOT EXISTS warren_schema (version BIGINT NOT NULL)")
            let current = try await s.run("SELECT version FROM warren_schema").first?.int("version")
            if current == nil { try await s.run("INSERT INTO warren_schema (version) VALUES (0)") }
            let from = current ?? 0
            guard from <= StoreSchema.version else {
                throw StoreError(.schemaTooNew, "the store's schema is version \(from); this build knows up to \(StoreSchema.version): upgrade Warren")
            }
            for version in stride(from: from + 1, through: StoreSchema.version, by: 1) {
                for statement in StoreSchema.migrations[version - 1] + backend.ownMigrations(version) { try await s.run(statement) }
            }
            for statement in backend.extraSchema { try await s.run(statement) }
            try await s.run("UPDATE warren_schema SET version = ?", [.int(StoreSchema.version)])
            return (from, StoreSchema.version)
        }
    }

    func write(_ batch: StoreBatch) async throws(StoreError) {
        let statements = Self.statements(batch, columnArrays: backend.columnArrays)
        if statements.count == 1 {
            // One statement is atomic by itself: no BEGIN/COMMIT round trips.
            try await backend.run(statements[0].sql, statements[0].binds)
        } else if !statements.isEmpty {
            try await backend.transaction { s throws(StoreError) in
                for st in statements { try await s.run(st.sql, st.binds) }
            }
        }
    }

    /// Writes a batch on a session (inside the caller's transaction) of a backend with `columnArrays` or not.
    static func apply(_ batch: StoreBatch, on s: any SQLSession, columnArrays: Bool) async throws(StoreError) {
        for st in statements(batch, columnArrays: columnArrays) { try await s.run(st.sql, st.binds) }
    }

    /// The statements that write `batch`: upserts (in chunks, or one of column arrays on PostgreSQL),
    /// heartbeats in chunks, one delete per release.
    static func statements(_ batch: StoreBatch, columnArrays: Bool) -> [(sql: String, binds: [SQLValue])] {
        var out: [(sql: String, binds: [SQLValue])] = []
        var start = 0
        if columnArrays, !batch.updates.isEmpty {
            out.append((PostgresColumns.upsert, PostgresColumns.binds(batch.updates)))
            start = batch.updates.count
        }
        while start < batch.updates.count {
            let rows = batch.updates[start..<min(start + chunk, batch.updates.count)]
            out.append(StoreStatements.upsert(rows))
            start += chunk
        }
        start = 0
        while start < batch.heartbeats.count {
            let ids = batch.heartbeats[start..<min(start + chunk, batch.heartbeats.count)]
            out.append((StoreStatements.heartbeat(count: ids.count), [.time(batch.heartbeatAt)] + ids.map { .text($0) }))
            start += chunk
        }
        for r in batch.releases {
            out.append(("DELETE FROM warren_unique_keys WHERE key = ? AND job_id = ?", [.text(r.key), .text(r.jobID)]))
        }
        return out
    }

    func claim(_ key: UniqueJob, for job: JobUpdate) async throws(StoreError) -> UniqueClaim {
        // Bounded: a retry happens only when the holder released the key between our two statements.
        for _ in 0..<8 {
            let outcome: UniqueClaim? = try await backend.transaction { s throws(StoreError) in
                let expires = job.at.addingTimeInterval(key.duration.seconds)
                let won = try await s.run(StoreStatements.claim, [.text(key.key), .text(job.id), .text(key.release.rawValue),
                                                                  .time(job.at), .time(expires)])
                if !won.isEmpty {
                    try await Self.apply(StoreBatch(updates: [job]), on: s, columnArrays: self.backend.columnArrays)
                    return .claimed
                }
                let holder = try await s.run("SELECT job_id FROM warren_unique_keys WHERE key = ?", [.text(key.key)])
                return holder.first?.string("job_id").map { UniqueClaim.held(by: $0) }
            }
            if let outcome { return outcome }
        }
        throw StoreError(.query, "unique key '\(key.key)' changed hands 8 times while claiming it; try again")
    }

    func status(_ id: String) async throws(StoreError) -> JobStatus {
        let rows = try await backend.run("SELECT * FROM warren_jobs WHERE id = ?", [.text(id)])
        return rows.first.map(StoreStatements.status) ?? .unknown(id)
    }

    func list(_ query: JobQuery) async throws(StoreError) -> [JobStatus] {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        if let state = query.state { conditions.append("state = ?"); binds.append(.text(state.rawValue)) }
        if let queue = query.queue { conditions.append("queue = ?"); binds.append(.text(queue)) }
        if let name = query.name { conditions.append("name = ?"); binds.append(.text(name)) }
        if let after = query.after {
            conditions.append("(updated_at < ? OR (updated_at = ? AND id > ?))")
            binds += [.int(after.updatedMillis), .int(after.updatedMillis), .text(after.id)]
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try await backend.run("SELECT * FROM warren_jobs \(filter) ORDER BY updated_at DESC, id LIMIT ?",
                                         binds + [.int(query.limit)])
        return rows.map(StoreStatements.status)
    }

    func holder(of key: String, now: Date) async throws(StoreError) -> String? {
        try await backend.run("SELECT job_id FROM warren_unique_keys WHERE key = ? AND expires_at > ?", [.text(key), .time(now)])
            .first?.string("job_id")
    }

    func sweep(_ policy: SweepPolicy, now: Date) async throws(StoreError) -> SweepReport {
        var report = SweepReport()
        let finishedBefore = SQLValue.time(now.addingTimeInterval(-policy.retention.seconds))
        let staleBefore = SQLValue.time(now.addingTimeInterval(-policy.staleAfter.seconds))
        let n = SQLValue.int(policy.batchSize)
        for (statement, binds, keyPath) in [
            (StoreStatements.deleteFinished, [.text(JobState.succeeded.rawValue), finishedBefore, n], \SweepReport.deleted),
            (StoreStatements.deleteFinished, [.text(JobState.dead.rawValue), finishedBefore, n], \SweepReport.deleted),
            (StoreStatements.markLost, [.time(now), staleBefore, n], \SweepReport.lost),
            (StoreStatements.deleteExpiredKeys, [.time(now), n], \SweepReport.expiredKeys),
        ] as [(String, [SQLValue], WritableKeyPath<SweepReport, Int>)] {
            for _ in 0..<policy.maxBatches {
                let done = try await backend.run(statement, binds).count
                report[keyPath: keyPath] += done
                if done < policy.batchSize { break }
            }
        }
        report.batches = try await BatchSweep.sweep(policy, before: now.addingTimeInterval(-policy.retention.seconds), on: backend)
        return report
    }

    func close() async { await backend.close() }
}
