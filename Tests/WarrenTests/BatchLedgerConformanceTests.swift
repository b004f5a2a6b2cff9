import Foundation
import Warren
import WarrenStore
import XCTest

/// The batch ledger of the job store, on both backends (real SQLite file, real PostgreSQL): the fan-in
/// scenarios of ``BatchScenarios``, with two store handles (two workers) racing on the same batch.
final class BatchLedgerConformanceTests: XCTestCase {
    /// Runs `body` with two handles on each backend's database (as two worker processes have).
    private func eachBackend(_ body: (String, [any BatchLedger]) async throws -> Void) async throws {
        try await StoreBackends.each { backend, store, url in
            let second = try await url.open(logger: quietLogger("test.store"))
            defer { Task { await second.close() } }
            let ledgers = [store.batchLedger, second.batchLedger].compactMap { $0 }
            XCTAssertEqual(ledgers.count, 2, "\(backend) keeps a batch ledger")
            try await body(backend, ledgers)
        }
    }

    /// 1,000 children, 3 die; every child finishes twice, concurrently, through two workers: each child
    /// counted once, `death` once, `complete` once after every child, `success` never.
    func testThreeDeadOfAThousandRacingOnTwoWorkers() async throws {
        try await eachBackend { backend, ledgers in
            let id = StoreBackends.id("batch")
            let published = Published()
            try await BatchScenarios.race(ledgers.map { BatchScenarios.coordinator($0, published) }, id: id, children: 1000,
                                          dying: [17, 500, 999])
            XCTAssertEqual(published.ids.sorted(), ["\(id).complete", "\(id).death"], backend)
            XCTAssertEqual(published.list.withLock { $0.first { $0.id == "\(id).complete" }?.pending }, 0, "\(backend): complete after every child")
            let s = try await ledgers[1].snapshot(id)
            XCTAssertEqual(s?.succeeded, 997, backend)
            XCTAssertEqual(s?.dead, 3, backend)
            XCTAssertEqual(s?.pending, 0, backend)
            XCTAssertEqual(s?.enqueued, [.death, .complete], backend)
        }
    }

    /// Sixteen claimants race for one callback at the same instant: exactly one wins; after it is marked
    /// enqueued, every later claim is told so.
    func testOneClaimantOfSixteenWins() async throws {
        try await eachBackend { backend, ledgers in
            let id = StoreBackends.id("claim")
            try await ledgers[0].open(BatchDefinition(id: id, callbacks: BatchScenarios.all))
            let now = ContinuousClock.now
            let answers = try await withThrowingTaskGroup(of: BatchClaim.self) { group in
                for k in 0..<16 { group.addTask { try await ledgers[k % 2].claim(.success, of: id, by: "w\(k)", at: now, lease: .seconds(60)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(answers.filter { $0 == .won }.count, 1, backend)
            XCTAssertEqual(answers.filter { $0 == .held }.count, 15, backend)
            try await ledgers[0].enqueued(.success, of: id)
            let later = try await ledgers[1].claim(.success, of: id, by: "late", at: now + .seconds(120), lease: .seconds(60))
            XCTAssertEqual(later, .enqueued, backend)
        }
    }

    func testAKillBeforeTheConfirmRepublishesOnceAfterTheLease() async throws {
        try await eachBackend { _, ledgers in try await BatchScenarios.killBeforeConfirm(ledgers[0], id: StoreBackends.id("lease")) }
    }

    func testChildrenAddedByARunningChildKeepTheBatchOpen() async throws {
        try await eachBackend { _, ledgers in try await BatchScenarios.childrenAddChildren(ledgers[0], id: StoreBackends.id("add")) }
    }

    func testNestedBatchesCompleteTheirParent() async throws {
        try await eachBackend { _, ledgers in try await BatchScenarios.nested(ledgers[0], id: StoreBackends.id("nest")) }
    }

    /// 300 children finishing through one handle, most in the same group commits: exactly one child's
    /// snapshot leaves the batch's callbacks to fire (the one that fires them before its ack); every other
    /// child, of the completing commit too, has nothing to fire and settles at once.
    func testOneChildOfTheCompletingCommitFiresTheCallbacks() async throws {
        try await eachBackend { backend, ledgers in
            let id = StoreBackends.id("firer")
            let children = (0..<300).map { "\(id).\($0)" }
            try await ledgers[0].open(BatchDefinition(id: id, callbacks: BatchScenarios.all))
            try await ledgers[0].add(children: children, to: id)
            _ = try await ledgers[0].seal(id)
            let snapshots = try await withThrowingTaskGroup(of: BatchSnapshot.self) { group in
                for child in children {
                    group.addTask {
                        try await withCheckedThrowingContinuation { c in
                            ledgers[0].startFinish(child: child, in: id, outcome: .succeeded) { c.resume(with: $0) }
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(snapshots.count, 300, backend)
            let firing = snapshots.filter(FanIn.hasWork)
            XCTAssertEqual(firing.count, 1, "\(backend): children with callbacks to fire")
            XCTAssertEqual(firing.first.map(FanIn.due), [.complete, .success], backend)
            XCTAssertEqual(snapshots.filter(FanIn.isComplete).count, snapshots.filter { $0.pending == 0 }.count, backend)
            XCTAssertGreaterThan(snapshots.filter(FanIn.isComplete).count, 1, "\(backend): the completing commit held several children")
        }
    }
}
