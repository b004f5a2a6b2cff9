import Foundation
import Synchronization
@testable import Warren
import XCTest

/// A batch ledger in memory, with the semantics the store backends implement (idempotent by child id,
/// conditional claims), to test the fan-in logic without a database.
actor MemoryBatchLedger: BatchLedger {
    struct Claim {
        var claimant: String
        var until: ContinuousClock.Instant
        var done = false
    }
    struct Batch {
        var definition: BatchDefinition
        var sealed = false
        var children: [String: ChildOutcome?] = [:]
        var pending = 0, succeeded = 0, dead = 0
        var claims: [BatchCallback: Claim] = [:]
        var parentClaim: Claim?
    }
    var batches: [String: Batch] = [:]

    func open(_ batch: BatchDefinition) { if batches[batch.id] == nil { batches[batch.id] = Batch(definition: batch) } }

    func add(children: [String], to batch: String) throws {
        guard var b = batches[batch] else { throw LedgerError("no batch \(batch)") }
        guard !(b.sealed && b.pending == 0) else { throw LedgerError("batch \(batch) completed") }
        for c in children where b.children[c] == nil {
            b.children[c] = .some(nil)
            b.pending += 1
        }
        batches[batch] = b
    }

    func seal(_ batch: String) throws -> BatchSnapshot {
        batches[batch]?.sealed = true
        return try snap(batch)
    }

    func finish(child: String, in batch: String, outcome: ChildOutcome) throws -> BatchSnapshot {
        if case .some(.none) = batches[batch]?.children[child] {
            batches[batch]?.children[child] = outcome
            batches[batch]?.pending -= 1
            if outcome == .dead { batches[batch]?.dead += 1 } else { batches[batch]?.succeeded += 1 }
        }
        return try snap(batch)
    }

    /// The conditional update: free, or its lease ran out and not done.
    private func take(_ claim: Claim?, _ claimant: String, _ now: ContinuousClock.Instant, _ lease: Duration) -> (BatchClaim, Claim?) {
        if let c = claim {
            if c.done { return (.enqueued, c) }
            if c.until > now { return (.held, c) }
        }
        return (.won, Claim(claimant: claimant, until: now + lease))
    }

    func claim(_ callback: BatchCallback, of batch: String, by claimant: String, at now: ContinuousClock.Instant,
               lease: Duration) -> BatchClaim {
        let (answer, claim) = take(batches[batch]?.claims[callback], claimant, now, lease)
        batches[batch]?.claims[callback] = claim
        return answer
    }

    func enqueued(_ callback: BatchCallback, of batch: String) { batches[batch]?.claims[callback]?.done = true }

    func claimParentNotice(of batch: String, by claimant: String, at now: ContinuousClock.Instant, lease: Duration) -> BatchClaim {
        let (answer, claim) = take(batches[batch]?.parentClaim, claimant, now, lease)
        batches[batch]?.parentClaim = claim
        return answer
    }

    func parentNotified(of batch: String) { batches[batch]?.parentClaim?.done = true }

    func snapshot(_ batch: String) throws -> BatchSnapshot? { batches[batch] == nil ? nil : try snap(batch) }

    private func snap(_ id: String) throws -> BatchSnapshot {
        guard let b = batches[id] else { throw LedgerError("no batch \(id)") }
        return BatchSnapshot(definition: b.definition, sealed: b.sealed, pending: b.pending, succeeded: b.succeeded, dead: b.dead,
                             enqueued: Set(b.claims.filter { $0.value.done }.keys), parentNotified: b.parentClaim?.done == true)
    }
}

struct LedgerError: Error { let message: String; init(_ m: String) { message = m } }

/// What callbacks were published, with the batch's pending count at that moment.
final class Published: Sendable {
    let list = Mutex<[(id: String, pending: Int)]>([])
    var ids: [String] { list.withLock { $0.map(\.id) } }
}

final class FanInTests: XCTestCase {
    private func snap(sealed: Bool, pending: Int, dead: Int = 0, enqueued: Set<BatchCallback> = []) -> BatchSnapshot {
        BatchSnapshot(definition: BatchDefinition(id: "B", callbacks: BatchScenarios.all), sealed: sealed, pending: pending, succeeded: 0,
                      dead: dead, enqueued: enqueued)
    }

    func testDueCallbacksAreNeverEarlyAndFireOnce() {
        XCTAssertEqual(FanIn.due(snap(sealed: false, pending: 0)), [], "not sealed: more children may come")
        XCTAssertEqual(FanIn.due(snap(sealed: true, pending: 1)), [])
        XCTAssertEqual(FanIn.due(snap(sealed: true, pending: 0)), [.complete, .success])
        XCTAssertEqual(FanIn.due(snap(sealed: false, pending: 7, dead: 1)), [.death], "death fires at the first dead child")
        XCTAssertEqual(FanIn.due(snap(sealed: true, pending: 0, dead: 3, enqueued: [.death])), [.complete], "success never after a death")
        XCTAssertEqual(FanIn.due(snap(sealed: true, pending: 0, enqueued: [.complete, .success])), [])
        XCTAssertEqual(FanIn.callbackID(.success, of: "B"), "B.success")
    }

    /// What the other children of a completing commit see: nothing left to fire, the rest unchanged.
    func testAfterFiringLeavesNothingToFire() {
        for s in [snap(sealed: true, pending: 0), snap(sealed: false, pending: 7, dead: 1), snap(sealed: true, pending: 0, dead: 3, enqueued: [.death]),
                  BatchSnapshot(definition: BatchDefinition(id: "inner", callbacks: [:], parent: (batch: "outer", child: "c1")),
                                sealed: true, pending: 0, succeeded: 2, dead: 0)] {
            let after = FanIn.afterFiring(s)
            XCTAssertFalse(FanIn.hasWork(after), "\(s)")
            XCTAssertEqual(after.enqueued, s.enqueued.union(FanIn.due(s)))
            XCTAssertEqual([after.sealed, after.pending, after.succeeded, after.dead] as [AnyHashable], [s.sealed, s.pending, s.succeeded, s.dead] as [AnyHashable])
        }
        let mid = snap(sealed: true, pending: 4)
        XCTAssertEqual(FanIn.afterFiring(mid), mid, "nothing due: unchanged")
    }

    /// The batch header's rule, checked on bytes for ASCII ids: the same answers as on characters.
    func testBatchIDsAreOneLineNonEmptyAndBounded() {
        let cases = ["01a23119-4367-72bb-96df-cd1b1176963f", "", "a\nb", "a\rb", "a\u{0B}b", "a\u{0C}b", "tab\tok",
                     "naïve-batch", "line\u{2028}sep", "nel\u{85}x", "crlf\r\n", String(repeating: "x", count: 1_024),
                     String(repeating: "x", count: 1_025), String(repeating: "é", count: 1_000), String(repeating: "é", count: 1_025)]
        for text in cases {
            let byCharacters = !text.isEmpty && text.count <= 1_024 && !text.contains(where: \.isNewline)
            XCTAssertEqual(BatchMembership.isBatchID(text), byCharacters, text.debugDescription)
        }
        XCTAssertThrowsError(try BatchMembership.batchID(header: .string("a\nb")))
        XCTAssertEqual(try BatchMembership.batchID(header: .string("b-1")), "b-1")
    }

    /// A child's settlement takes a task only when its snapshot leaves something to fire.
    func testOnlyASnapshotWithSomethingDueHasWork() {
        XCTAssertFalse(FanIn.hasWork(snap(sealed: true, pending: 5)), "mid-batch: nothing to fire")
        XCTAssertFalse(FanIn.hasWork(snap(sealed: false, pending: 0)))
        XCTAssertTrue(FanIn.hasWork(snap(sealed: true, pending: 0)))
        XCTAssertTrue(FanIn.hasWork(snap(sealed: false, pending: 7, dead: 1)), "the first death fires at once")
        XCTAssertFalse(FanIn.hasWork(snap(sealed: true, pending: 0, enqueued: [.complete, .success])), "all fired already")
        let child = BatchDefinition(id: "inner", callbacks: [:], parent: (batch: "outer", child: "c1"))
        let done = BatchSnapshot(definition: child, sealed: true, pending: 0, succeeded: 2, dead: 0)
        XCTAssertTrue(FanIn.hasWork(done), "a completed nested batch tells its parent")
        XCTAssertFalse(FanIn.hasWork(BatchSnapshot(definition: child, sealed: true, pending: 0, succeeded: 2, dead: 0, parentNotified: true)))
    }

    /// 1,000 children, 3 die, every child finishes twice (redelivery), in random order and concurrently:
    /// death once, complete once after every child, success never.
    func testThreeDeadOfAThousandDeathOnceCompleteOnceSuccessNever() async throws {
        let published = Published()
        try await BatchScenarios.race([BatchScenarios.coordinator(MemoryBatchLedger(), published)], id: "B", children: 1000,
                                      dying: [17, 500, 999])
        XCTAssertEqual(published.ids.sorted(), ["B.complete", "B.death"])
        XCTAssertEqual(published.list.withLock { $0.first { $0.id == "B.complete" }?.pending }, 0, "complete only after every child")
    }

    /// 10,000 children each finishing twice: the success callback is published once, after the last.
    func testTenThousandChildrenOneSuccessCallback() async throws {
        let published = Published()
        try await BatchScenarios.race([BatchScenarios.coordinator(MemoryBatchLedger(), published)], id: "B", children: 10_000, dying: [],
                                      callbacks: [.success: .init(name: "record")])
        XCTAssertEqual(published.ids, ["B.success"])
        XCTAssertEqual(published.list.withLock { $0[0].pending }, 0)
    }

    func testAKillBeforeTheConfirmRepublishesOnceAfterTheLease() async throws {
        try await BatchScenarios.killBeforeConfirm(MemoryBatchLedger(), id: "B")
    }

    func testChildrenAddedByARunningChildKeepTheBatchOpen() async throws {
        try await BatchScenarios.childrenAddChildren(MemoryBatchLedger(), id: "B")
    }

    func testNestedBatchesCompleteTheirParent() async throws {
        try await BatchScenarios.nested(MemoryBatchLedger(), id: "B")
    }
}
