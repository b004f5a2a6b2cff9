import Foundation
import Synchronization
import Warren
import XCTest

/// The fan-in scenarios, run on any ``BatchLedger``: the in-memory one (`FanInTests`) and the SQLite and
/// PostgreSQL store ledgers (`BatchLedgerConformanceTests`). Batch ids start with `id`, so a shared
/// database keeps each run apart.
enum BatchScenarios {
    static let all: [BatchCallback: WorkflowJob] = [.success: .init(name: "ok"), .complete: .init(name: "done"), .death: .init(name: "rip")]

    /// A coordinator that records what it publishes and the batch's pending count then; `failOnce` makes
    /// the first publish of that id fail (a worker killed before the broker's confirm).
    static func coordinator(_ ledger: any BatchLedger, _ published: Published, failOnce: String? = nil,
                            lease: Duration = .seconds(60)) -> BatchCoordinator {
        let failed = Mutex(false)
        return BatchCoordinator(ledger: ledger, lease: lease) { planned in
            if planned.id == failOnce, !failed.withLock({ let f = $0; $0 = true; return f }) { throw LedgerError("killed before the confirm") }
            let pending = try await ledger.snapshot(planned.batch)?.pending ?? -1
            published.list.withLock { $0.append((planned.id, pending)) }
        }
    }

    /// Finishes `child` as a job attempt would: a copy that finds a callback being enqueued by another
    /// fails and is retried (bounded).
    static func finish(_ c: BatchCoordinator, _ child: String, in batch: String, _ outcome: ChildOutcome) async throws {
        for _ in 0..<500 {
            do { return try await c.finished(child: child, in: batch, outcome: outcome) } catch is BatchCallbackHeld {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        XCTFail("\(child) never got past a held callback")
    }

    /// `n` children, those in `dying` die, every child finishes twice, in random order, concurrently, each
    /// copy through one of `coordinators` (workers sharing the ledger). Returns what was published.
    static func race(_ coordinators: [BatchCoordinator], id: String, children n: Int, dying: Set<Int>,
                     callbacks: [BatchCallback: WorkflowJob] = all) async throws {
        let children = (1...n).map { "\(id).\($0)" }
        try await coordinators[0].open(BatchDefinition(id: id, callbacks: callbacks), children: children)
        try await coordinators[0].sealed(id)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (k, child) in (children + children).shuffled().enumerated() {
                let c = coordinators[k % coordinators.count]
                let dead = dying.contains(Int(child.split(separator: ".").last ?? "") ?? 0)
                group.addTask { try await finish(c, child, in: id, dead ? .dead : .succeeded) }
            }
            try await group.waitForAll()
        }
    }

    /// Killed between claiming the callback and the broker's confirm: while the claim's lease holds, every
    /// retry is told to wait (nothing published twice); once it ran out, the retried child publishes it
    /// (same id); once confirmed, never again.
    static func killBeforeConfirm(_ ledger: any BatchLedger, id: String) async throws {
        let published = Published()
        let c = coordinator(ledger, published, failOnce: "\(id).complete", lease: .milliseconds(300))
        try await c.open(BatchDefinition(id: id, callbacks: [.complete: .init(name: "done")]), children: ["a", "b"])
        try await c.sealed(id)
        try await c.finished(child: "a", in: id, outcome: .succeeded)
        do { try await c.finished(child: "b", in: id, outcome: .succeeded); XCTFail("the publish failed") } catch {}
        for child in ["a", "b"] {
            do { try await c.finished(child: child, in: id, outcome: .succeeded); XCTFail("held") } catch is BatchCallbackHeld {}
        }
        XCTAssertEqual(published.ids, [])
        try await Task.sleep(for: .milliseconds(400))  // the dead claimant's lease runs out
        try await c.finished(child: "b", in: id, outcome: .succeeded)  // retried: publishes it
        try await c.finished(child: "a", in: id, outcome: .succeeded)  // and never again
        try await c.finished(child: "b", in: id, outcome: .succeeded)
        XCTAssertEqual(published.ids, ["\(id).complete"])
    }

    /// A child adds children while it runs: the batch does not complete before they finish; a completed
    /// batch takes no more.
    static func childrenAddChildren(_ ledger: any BatchLedger, id: String) async throws {
        let published = Published()
        let c = coordinator(ledger, published)
        try await c.open(BatchDefinition(id: id, callbacks: [.success: .init(name: "ok")]), children: ["a", "b"])
        try await c.sealed(id)
        try await ledger.add(children: ["a1", "a2"], to: id)  // a, running, adds two
        try await c.finished(child: "a", in: id, outcome: .succeeded)
        try await c.finished(child: "b", in: id, outcome: .succeeded)
        try await c.finished(child: "a1", in: id, outcome: .succeeded)
        XCTAssertEqual(published.ids, [], "a2 still pending")
        try await c.finished(child: "a2", in: id, outcome: .succeeded)
        XCTAssertEqual(published.ids, ["\(id).success"])
        do { try await ledger.add(children: ["late"], to: id); XCTFail("a completed batch takes no children") } catch {}
    }

    /// A nested batch completes its child in the parent; a death inside makes that child dead.
    static func nested(_ ledger: any BatchLedger, id: String) async throws {
        let published = Published()
        let c = coordinator(ledger, published)
        let (p, i) = ("\(id).P", "\(id).I")
        try await c.open(BatchDefinition(id: p, callbacks: [.success: .init(name: "ok"), .complete: .init(name: "done")]), children: ["x", "inner"])
        try await c.open(BatchDefinition(id: i, callbacks: [.death: .init(name: "rip")], parent: (batch: p, child: "inner")), children: ["i1", "i2"])
        try await c.sealed(i)
        try await c.sealed(p)
        try await c.finished(child: "x", in: p, outcome: .succeeded)
        try await c.finished(child: "i1", in: i, outcome: .succeeded)
        XCTAssertEqual(published.ids, [])
        try await c.finished(child: "i2", in: i, outcome: .dead)
        XCTAssertEqual(published.ids, ["\(i).death", "\(p).complete"], "the inner death makes the parent complete, not succeed")
    }
}
