import Foundation
import Synchronization
import Warren
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
    private let all: [BatchCallback: WorkflowJob] = [.success: .init(name: "ok"), .complete: .init(name: "done"), .death: .init(name: "rip")]

    private func snap(sealed: Bool, pending: Int, dead: Int = 0, enqueued: Set<BatchCallback> = []) -> BatchSnapshot {
        BatchSnapshot(definition: BatchDefinition(id: "B", callbacks: all), sealed: sealed, pending: pending, succeeded: 0, dead: dead,
                      enqueued: enqueued)
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

    private func coordinator(_ ledger: MemoryBatchLedger, _ published: Published, failOnce: String? = nil,
                             lease: Duration = .seconds(60)) -> BatchCoordinator {
        let failed = Mutex(false)
        return BatchCoordinator(ledger: ledger, lease: lease) { planned in
            if planned.id == failOnce, !failed.withLock({ let f = $0; $0 = true; return f }) { throw LedgerError("killed before the confirm") }
            let pending = try await ledger.snapshot(planned.batch)?.pending ?? -1
            published.list.withLock { $0.append((planned.id, pending)) }
        }
    }

    /// 1,000 children, 3 die, every child finishes twice (redelivery), in random order and concurrently:
    /// death once, complete once after every child, success never.
    func testThreeDeadOfAThousandDeathOnceCompleteOnceSuccessNever() async throws {
        let ledger = MemoryBatchLedger()
        let published = Published()
        let c = coordinator(ledger, published)
        let children = (1...1000).map { "c\($0)" }
        try await c.open(BatchDefinition(id: "B", callbacks: all), children: children)
        try await c.sealed("B")
        let dying: Set = ["c17", "c500", "c999"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for child in (children + children).shuffled() {
                group.addTask {
                    // A copy that finds a callback being enqueued by another fails and is retried, as a job attempt would be.
                    for _ in 0..<100 {
                        do { return try await c.finished(child: child, in: "B", outcome: dying.contains(child) ? .dead : .succeeded) } catch is BatchCallbackHeld {
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    }
                    XCTFail("\(child) never got past a held callback")
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(published.ids.sorted(), ["B.complete", "B.death"])
        XCTAssertEqual(published.list.withLock { $0.first { $0.id == "B.complete" }?.pending }, 0, "complete only after every child")
    }

    /// 10,000 children each finishing twice: the success callback is published once, after the last.
    func testTenThousandChildrenOneSuccessCallback() async throws {
        let ledger = MemoryBatchLedger()
        let published = Published()
        let c = coordinator(ledger, published)
        let children = (1...10_000).map { "c\($0)" }
        try await c.open(BatchDefinition(id: "B", callbacks: [.success: .init(name: "record")]), children: children)
        try await c.sealed("B")
        for child in (children + children.prefix(500)).shuffled() { try await c.finished(child: child, in: "B", outcome: .succeeded) }
        XCTAssertEqual(published.ids, ["B.success"])
        XCTAssertEqual(published.list.withLock { $0[0].pending }, 0)
    }

    /// Killed between claiming the callback and the broker's confirm: while the claim's lease holds, every
    /// retry is told to wait (nothing published twice); once it ran out, the retried child publishes it
    /// (same id); once confirmed, never again.
    func testAKillBeforeTheConfirmRepublishesOnceAfterTheLease() async throws {
        let ledger = MemoryBatchLedger()
        let published = Published()
        let c = coordinator(ledger, published, failOnce: "B.complete", lease: .milliseconds(200))
        try await c.open(BatchDefinition(id: "B", callbacks: [.complete: .init(name: "done")]), children: ["a", "b"])
        try await c.sealed("B")
        try await c.finished(child: "a", in: "B", outcome: .succeeded)
        do { try await c.finished(child: "b", in: "B", outcome: .succeeded); XCTFail("the publish failed") } catch {}
        for child in ["a", "b"] {
            do { try await c.finished(child: child, in: "B", outcome: .succeeded); XCTFail("held") } catch is BatchCallbackHeld {}
        }
        XCTAssertEqual(published.ids, [])
        try await Task.sleep(for: .milliseconds(250))  // the dead claimant's lease runs out
        try await c.finished(child: "b", in: "B", outcome: .succeeded)  // retried: publishes it
        try await c.finished(child: "a", in: "B", outcome: .succeeded)  // and never again
        try await c.finished(child: "b", in: "B", outcome: .succeeded)
        XCTAssertEqual(published.ids, ["B.complete"])
    }

    /// A child adds children while it runs: the batch does not complete before they finish.
    func testChildrenAddedByARunningChildKeepTheBatchOpen() async throws {
        let ledger = MemoryBatchLedger()
        let published = Published()
        let c = coordinator(ledger, published)
        try await c.open(BatchDefinition(id: "B", callbacks: [.success: .init(name: "ok")]), children: ["a", "b"])
        try await c.sealed("B")
        try await ledger.add(children: ["a1", "a2"], to: "B")  // a, running, adds two
        try await c.finished(child: "a", in: "B", outcome: .succeeded)
        try await c.finished(child: "b", in: "B", outcome: .succeeded)
        try await c.finished(child: "a1", in: "B", outcome: .succeeded)
        XCTAssertEqual(published.ids, [], "a2 still pending")
        try await c.finished(child: "a2", in: "B", outcome: .succeeded)
        XCTAssertEqual(published.ids, ["B.success"])
        do { try await ledger.add(children: ["late"], to: "B"); XCTFail("a completed batch takes no children") } catch {}
    }

    /// A nested batch completes its child in the parent; a death inside makes that child dead.
    func testNestedBatchesCompleteTheirParent() async throws {
        let ledger = MemoryBatchLedger()
        let published = Published()
        let c = coordinator(ledger, published)
        try await c.open(BatchDefinition(id: "P", callbacks: [.success: .init(name: "ok"), .complete: .init(name: "done")]), children: ["x", "inner"])
        try await c.open(BatchDefinition(id: "I", callbacks: [.death: .init(name: "rip")], parent: (batch: "P", child: "inner")), children: ["i1", "i2"])
        try await c.sealed("I")
        try await c.sealed("P")
        try await c.finished(child: "x", in: "P", outcome: .succeeded)
        try await c.finished(child: "i1", in: "I", outcome: .succeeded)
        XCTAssertEqual(published.ids, [])
        try await c.finished(child: "i2", in: "I", outcome: .dead)
        XCTAssertEqual(published.ids, ["I.death", "P.complete"], "the inner death makes the parent complete, not succeed")
    }
}
