import Foundation
import Warren

/// The ``BatchLedger`` in a job store's tables (``BatchStatements``), the same SQL on SQLite and
/// PostgreSQL. Every change is one transaction; rows are locked in one order (children by id, then the
/// batch, claims alone), so concurrent workers wait for each other; children's outcomes are
/// group-committed (``BatchFinishes``). Leases are kept as
/// wall-clock milliseconds, so workers on several hosts (PostgreSQL) share them.
final class SQLBatchLedger: BatchLedger {
    let backend: any SQLBackend
    /// Children's outcomes, group-committed.
    private let finishes: BatchFinishes

    init(backend: any SQLBackend) {
        self.backend = backend
        self.finishes = BatchFinishes(backend: backend)
    }

    func open(_ batch: BatchDefinition) async throws {
        let definition = String(decoding: try JSONEncoder().encode(batch), as: UTF8.self)
        try await backend.run(BatchStatements.open, [.text(batch.id), .text(definition), .time(Date())])
    }

    /// Children registered by one ``add(children:to:)`` from which the backend's statistics are refreshed
    /// (``SQLBackend/childrenStatistics``) before they are published.
    ///
    /// PostgreSQL's planner estimates how many children a batch has from the table's statistics, which
    /// know nothing of a batch made since they were last gathered (autovacuum gathers them a minute or more
    /// later). It then takes the new batch for a few hundred rows and records a group commit's outcomes by
    /// reading every child of the batch (a bitmap scan on the batch id, the commit's ids as a filter)
    /// instead of looking each one up by the primary key: every commit costs the whole batch, and a batch
    /// of N children about N² / 200 row reads. Measured on a 30,000-child batch: 8.5 ms per commit of 184
    /// children with the stale estimate, 2.4 ms for 150 looked up once analysed. `ANALYZE` samples at most
    /// 30,000 rows, a fraction of a second; below this many children the scans cost less than that.
    static let analyzeAfter = 10_000

    func add(children: [String], to batch: String) async throws {
        // Only the opener (before sealing) or a running child (itself pending) adds: the batch cannot
        // complete in between, and the counting update re-checks it under the row's lock regardless.
        guard let before = try await Self.snapshot(batch, on: backend) else { throw BatchLedgerError(.unknownBatch, batch: batch) }
        guard !FanIn.isComplete(before) else { throw BatchLedgerError(.completed, batch: batch) }
        var compact: [Int] = [], named: [String] = []
        for id in Set(children) {
            if let k = ChildSlots.slot(of: id, in: batch) { compact.append(k) } else { named.append(id) }
        }
        let (slots, others) = (compact, named)
        let backend = self.backend
        let rowCount = try await backend.transaction { s throws(StoreError) -> Int in
            var added = 0
            var rows = others
            if !slots.isEmpty {
                if try await Self.keepsCompactChildrenAsRows(batch, on: s) {
                    rows += slots.map { ChildSlots.id(of: $0, in: batch) }
                } else {
                    added += try await BatchSlots.register(slots, in: batch, on: s, of: backend)
                }
            }
            for chunk in rows.sorted().chunked(by: SQLJobStore.chunk) {
                added += try await s.run(BatchStatements.addChildren(count: chunk.count), chunk.flatMap { [.text(batch), .text($0)] }).count
            }
            guard try await !s.run(BatchStatements.countAdded, [.int(added), .text(batch)]).isEmpty else {
                throw StoreError(.query, BatchLedgerError(.completed, batch: batch).description)  // rolls back
            }
            return rows.count
        }
        if rowCount >= Self.analyzeAfter, let refresh = backend.childrenStatistics {
            // Not fatal: without fresh statistics the batch's commits are slower, never wrong.
            _ = try? await backend.run(refresh)
        }
    }

    /// Whether `batch` keeps its compact children (``ChildSlots``) as rows of `warren_batch_children`: it
    /// has rows there and no slots, as a batch registered before schema version 7 does. So each batch keeps
    /// its compact children one way only: as slots exactly when it has any (what the catalog's pages and
    /// ``BatchSlots/finish(succeeded:dead:in:at:on:of:)``'s fallback to rows rely on).
    static func keepsCompactChildrenAsRows(_ batch: String, on s: any SQLSession) async throws(StoreError) -> Bool {
        guard try await s.run(BatchSlots.any, [.text(batch)]).isEmpty else { return false }
        return try await !s.run(BatchSlots.anyRows, [.text(batch)]).isEmpty
    }

    func seal(_ batch: String) async throws -> BatchSnapshot {
        let snapshot = try await backend.transaction { s throws(StoreError) in
            try await s.run(BatchStatements.seal, [.text(batch)])
            return try await Self.snapshot(batch, on: s)
        }
        guard let snapshot else { throw BatchLedgerError(.unknownBatch, batch: batch) }
        return snapshot
    }

    func finish(child: String, in batch: String, outcome: ChildOutcome) async throws -> BatchSnapshot {
        try await withCheckedThrowingContinuation { c in startFinish(child: child, in: batch, outcome: outcome) { c.resume(with: $0) } }
    }

    func startFinish(child: String, in batch: String, outcome: ChildOutcome,
                     completion: @escaping @Sendable (Result<BatchSnapshot, any Error>) -> Void) {
        finishes.finish(child: child, in: batch, outcome: outcome) { result in
            completion(result.flatMap { $0.map { .success($0) } ?? .failure(BatchLedgerError(.unknownBatch, batch: batch)) })
        }
    }

    func claim(_ callback: BatchCallback, of batch: String, by claimant: String, at now: ContinuousClock.Instant,
               lease: Duration) async throws -> BatchClaim {
        try await take(callback.rawValue, batch, claimant, now, lease)
    }

    func enqueued(_ callback: BatchCallback, of batch: String) async throws {
        try await backend.run(BatchStatements.markDone, [.text(batch), .text(callback.rawValue)])
    }

    func claimParentNotice(of batch: String, by claimant: String, at now: ContinuousClock.Instant,
                           lease: Duration) async throws -> BatchClaim {
        try await take(BatchStatements.parentClaim, batch, claimant, now, lease)
    }

    func parentNotified(of batch: String) async throws {
        try await backend.run(BatchStatements.markDone, [.text(batch), .text(BatchStatements.parentClaim)])
    }

    func snapshot(_ batch: String) async throws -> BatchSnapshot? {
        try await Self.snapshot(batch, on: backend)
    }

    /// The conditional update of a claim row at `now` (a monotonic instant, turned into wall-clock time).
    private func take(_ what: String, _ batch: String, _ claimant: String, _ now: ContinuousClock.Instant,
                      _ lease: Duration) async throws(StoreError) -> BatchClaim {
        let wallNow = Date().addingTimeInterval(-(ContinuousClock.now - now).seconds)
        let won = try await backend.run(BatchStatements.claim, [.text(batch), .text(what), .text(claimant),
                                                                .time(wallNow.addingTimeInterval(lease.seconds)), .time(wallNow)])
        if !won.isEmpty { return .won }
        let done = try await backend.run(BatchStatements.claimDone, [.text(batch), .text(what)]).first?.int("done")
        return done == 1 ? .enqueued : .held
    }

    /// The batch's snapshot, `nil` when unknown.
    static func snapshot(_ batch: String, on s: any SQLSession) async throws(StoreError) -> BatchSnapshot? {
        guard let row = try await s.run(BatchStatements.batch, [.text(batch)]).first else { return nil }
        return try await snapshot(batch, row: row, on: s, claimsOnlyIfDue: false)
    }

    /// The snapshot of `row` (a `warren_batches` row). With `claimsOnlyIfDue`, the claims are read only when
    /// a callback or parent notice could be due (``FanIn`` needs them only then): a child finishing
    /// mid-batch costs no query for them.
    static func snapshot(_ batch: String, row: SQLRow, on s: any SQLSession, claimsOnlyIfDue: Bool) async throws(StoreError) -> BatchSnapshot {
        let definition = try definitions.decode(row.string("definition") ?? "", batch: batch)
        var snapshot = BatchSnapshot(definition: definition, sealed: row.int("sealed") == 1, pending: row.int("pending") ?? 0,
                                     succeeded: row.int("succeeded") ?? 0, dead: row.int("dead") ?? 0)
        if claimsOnlyIfDue && FanIn.due(snapshot).isEmpty && FanIn.parentNotice(snapshot) == nil { return snapshot }
        let done = try await s.run(BatchStatements.doneClaims, [.text(batch)]).compactMap { $0.string("what") }
        snapshot.enqueued = Set(done.compactMap(BatchCallback.init(rawValue:)))
        snapshot.parentNotified = done.contains(BatchStatements.parentClaim)
        return snapshot
    }
}
