import Foundation
import Synchronization
import Warren

/// Group commit of batch children's outcomes: whatever arrives while one commit is in flight goes into
/// the next (up to ``maxPerCommit``), so a worker running many children pays one commit for many (the
/// batch's row is the hot spot: one counter update per batch per commit). SQLite: one transaction;
/// PostgreSQL: one statement per batch. One commit at a time per process (two overlapping ones were
/// slower on PostgreSQL: they wait for the batch's row, and each holds half the outcomes; measured again
/// with a worker settling off its runners, docs/workflows.md). Each caller gets the
/// snapshot of its batch after the commit that recorded its child: the first caller of each batch in a
/// commit as it is, the others as it stands once the first has fired what it made due
/// (``FanIn/afterFiring(_:)``), so one child, not every child of the commit, fires a batch's callbacks.
final class BatchFinishes: Sendable {
    private struct Request: Sendable {
        let child: String
        let batch: String
        let outcome: ChildOutcome
        /// Called once, by the flush that committed (or failed to commit) the outcome.
        let waiter: @Sendable (Result<BatchSnapshot?, any Error>) -> Void
    }
    private struct State {
        var queue: [Request] = []
        var flushing = false
    }

    static let maxPerCommit = 1_000
    /// Between back-to-back commits (outcomes arrived while one was in flight), fewer than ``gatherBelow``
    /// waiting wait ``gather`` more for company. A commit costs about the same whatever it holds (on
    /// PostgreSQL a statement, its executor's start and the WAL flush: about 0.9 ms of the server's CPU), so
    /// under load a commit of 300 children costs each half what one of 150 does: `warren-bench batch`
    /// on PostgreSQL, three alternated pairs, 305-330 commits per 100,000 children instead of 690-781, the
    /// server's CPU per child 1.5-2.5 us instead of 3.5-4.0 (docs/workflows.md, Cost). A child alone (the
    /// first outcome after a quiet spell) commits at once; the wait only lengthens the time a busy
    /// worker's children hold their prefetch places, which the adaptive prefetch counts (Little's law).
    static let gather = Duration.milliseconds(3)
    static let gatherBelow = 250
    private let backend: any SQLBackend
    private let state = Mutex(State())

    init(backend: any SQLBackend) { self.backend = backend }

    /// Records `child`'s outcome (the first recorded wins); `done` gets the batch's snapshot after (`nil` when
    /// unknown) from the flush that committed it: keep it short.
    func finish(child: String, in batch: String, outcome: ChildOutcome,
                done: @escaping @Sendable (Result<BatchSnapshot?, any Error>) -> Void) {
        let start = state.withLock { s -> Bool in
            s.queue.append(Request(child: child, batch: batch, outcome: outcome, waiter: done))
            guard !s.flushing else { return false }
            s.flushing = true
            return true
        }
        if start { Task { await self.flushLoop() } }
    }

    private func flushLoop() async {
        var busy = false
        while true {
            if busy, state.withLock({ (1..<Self.gatherBelow).contains($0.queue.count) }) { try? await Task.sleep(for: Self.gather) }
            busy = true
            let taken = state.withLock { s -> [Request] in
                if s.queue.isEmpty { s.flushing = false }
                // Usually everything waiting fits one commit: handed over whole, not copied element by element.
                if s.queue.count <= Self.maxPerCommit {
                    defer { s.queue = [] }
                    return s.queue
                }
                defer { s.queue.removeFirst(Self.maxPerCommit) }
                return Array(s.queue.prefix(Self.maxPerCommit))
            }
            guard !taken.isEmpty else { return }
            let work = taken.map { (batch: $0.batch, child: $0.child, outcome: $0.outcome) }
            var result: Result<[String: BatchSnapshot], StoreError> = .success([:])
            // Bounded: a deadlock PostgreSQL broke (two workers finishing the same redelivered children) is retried.
            for attempt in 1...3 {
                do throws(StoreError) {
                    result = .success(try await commit(work))
                    break
                } catch {
                    result = .failure(error)
                    if attempt < 3 { try? await Task.sleep(for: .milliseconds(20 * attempt)) }
                }
            }
            // One child of each batch gets its snapshot and fires what it made due; the others of this
            // commit get it as that fire leaves it (``FanIn/afterFiring(_:)``), nothing to fire.
            let firers = Self.firers(taken)
            // What the others see, once per batch (each is the same value: shared, not rebuilt per child).
            let quiet = (try? result.get())?.mapValues(FanIn.afterFiring) ?? [:]
            for (i, r) in taken.enumerated() {
                switch result {
                case .success(let snapshots):
                    r.waiter(.success(firers[r.batch] == i ? snapshots[r.batch] : quiet[r.batch]))
                case .failure(let error): r.waiter(.failure(error))
                }
            }
        }
    }

    /// The request of each batch that fires what the commit made due: its first success, whose failure to
    /// fire fails the child's attempt and has the broker deliver it again; else its first (a dead child's
    /// record retries for about a lease).
    private static func firers(_ requests: [Request]) -> [String: Int] {
        var out: [String: Int] = [:]
        for (i, r) in requests.enumerated() {
            guard let known = out[r.batch] else {
                out[r.batch] = i
                continue
            }
            if r.outcome == .succeeded && requests[known].outcome != .succeeded { out[r.batch] = i }
        }
        return out
    }

    /// A group commit's outcomes of one batch: successes first (a child reported both ways within one
    /// commit counts as succeeded). Compact children (``ChildSlots``) as slot numbers, as reported: the
    /// bitmaps settle repeats and successes first themselves, so no set of ids is built for them (hashing
    /// each child's id was about 3% of a batch drain's worker samples); the others by id, deduplicated here.
    private struct Outcomes {
        var rows: [ChildOutcome: [String]] = [.succeeded: [], .dead: []]
        var slots: [ChildOutcome: [Int]] = [.succeeded: [], .dead: []]

        init(_ batch: String, _ work: [(batch: String, child: String, outcome: ChildOutcome)]) {
            var ids: [ChildOutcome: Set<String>] = [:]
            for w in work where w.batch == batch {
                if let k = ChildSlots.slot(of: w.child, in: batch) { slots[w.outcome]!.append(k) } else { ids[w.outcome, default: []].insert(w.child) }
            }
            let ok = ids[.succeeded] ?? []
            rows = [.succeeded: ok.sorted(), .dead: (ids[.dead] ?? []).subtracting(ok).sorted()]
        }

        /// The slots as rows, once each, successes first (a batch keeping its compact children as rows).
        mutating func slotsAsRows(of batch: String) {
            let ok = Set(slots[.succeeded]!)
            addRows(ok.sorted(), .succeeded, of: batch)
            addRows(Set(slots[.dead]!).subtracting(ok).sorted(), .dead, of: batch)
        }

        var hasSlots: Bool { !(slots[.succeeded]!.isEmpty && slots[.dead]!.isEmpty) }
        var hasRows: Bool { !(rows[.succeeded]!.isEmpty && rows[.dead]!.isEmpty) }

        /// Slots `ks` of `batch` as rows (a batch keeping its compact children as rows, or slots it has no bit for).
        mutating func addRows(_ ks: [Int], _ outcome: ChildOutcome, of batch: String) {
            rows[outcome] = (rows[outcome]! + ks.map { ChildSlots.id(of: $0, in: batch) }).sorted()
        }
    }

    /// PostgreSQL: atomic statements per batch (below). SQLite: one transaction: per batch, the compact
    /// children's slots (``BatchSlots/finish(succeeded:dead:in:at:on:of:)``), then the other children's rows
    /// by id, then the batch's counters, then its snapshot.
    private func commit(_ work: [(batch: String, child: String, outcome: ChildOutcome)]) async throws(StoreError) -> [String: BatchSnapshot] {
        let batches = Set(work.map(\.batch)).sorted()
        if backend.writableCTEs { return try await commitInStatements(work, batches) }
        let backend = self.backend
        return try await backend.transaction { s throws(StoreError) in
            var out: [String: BatchSnapshot] = [:]
            let now = Date()
            for batch in batches {
                var outcomes = Outcomes(batch, work)
                var counted: [ChildOutcome: Int] = [:]
                if outcomes.hasSlots {
                    let r = try await BatchSlots.finish(succeeded: outcomes.slots[.succeeded]!, dead: outcomes.slots[.dead]!, in: batch,
                                                        at: now, on: s, of: backend)
                    counted = [.succeeded: r.succeeded, .dead: r.dead]
                    outcomes.addRows(r.unregistered.succeeded, .succeeded, of: batch)
                    outcomes.addRows(r.unregistered.dead, .dead, of: batch)
                }
                for outcome in [ChildOutcome.succeeded, .dead] {
                    for chunk in outcomes.rows[outcome]!.chunked(by: SQLJobStore.chunk) {
                        let binds: [SQLValue] = [.text(outcome.rawValue), .time(now), .text(batch)] + chunk.map { .text($0) }
                        counted[outcome, default: 0] += try await s.run(BatchStatements.finishChildren(count: chunk.count), binds).count
                    }
                }
                let (ok, dead) = (counted[.succeeded] ?? 0, counted[.dead] ?? 0)
                let row = ok + dead > 0
                    ? try await s.run(BatchStatements.count, [.int(ok + dead), .int(ok), .int(dead), .text(batch)]).first
                    : try await s.run(BatchStatements.batch, [.text(batch)]).first
                if let row { out[batch] = try await SQLBatchLedger.snapshot(batch, row: row, on: s, claimsOnlyIfDue: true) }
            }
            return out
        }
    }

    /// PostgreSQL: per batch, one atomic statement for the compact children, whose bitmaps the server
    /// combines (``BatchSlots/finishInOneStatement``), and one for the others' rows
    /// (``BatchStatements/finishAndCount(succeeded:dead:)``), each recording children and counting them in
    /// the batch's row together: no transaction around them, one round trip each. A batch that keeps its
    /// compact children as rows (registered before schema version 7) has them recorded by the second.
    private func commitInStatements(_ work: [(batch: String, child: String, outcome: ChildOutcome)],
                                    _ batches: [String]) async throws(StoreError) -> [String: BatchSnapshot] {
        var out: [String: BatchSnapshot] = [:]
        for batch in batches {
            var outcomes = Outcomes(batch, work)
            let now = Date()
            var row: SQLRow?
            if outcomes.hasSlots {
                let binds = BatchSlots.finishBinds(succeeded: outcomes.slots[.succeeded]!, dead: outcomes.slots[.dead]!, in: batch, at: now)
                row = try await backend.run(BatchSlots.finishInOneStatement, binds).first
                if row?.int("slotted") == 0 {
                    outcomes.slotsAsRows(of: batch)
                }
            }
            if outcomes.hasRows {
                let (ok, dead) = (outcomes.rows[.succeeded]!, outcomes.rows[.dead]!)
                let time = SQLValue.time(now)
                let binds: [SQLValue] = [time, .text(batch)] + ok.map { .text($0) } + [time, .text(batch)] + dead.map { .text($0) } + [.text(batch)]
                row = try await backend.run(BatchStatements.finishAndCount(succeeded: ok.count, dead: dead.count), binds).first
            }
            if let row { out[batch] = try await SQLBatchLedger.snapshot(batch, row: row, on: backend, claimsOnlyIfDue: true) }
        }
        return out
    }
}
