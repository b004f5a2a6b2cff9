import Foundation
import Warren
@testable import WarrenStore
import XCTest

/// The store's sweep of finished batches, on both backends: settled batches past retention go, oldest first,
/// within the sweep's bound, with their children and claims; an open, unsealed or running batch, one with a
/// callback due but not enqueued, one whose parent was not told and one finished within retention stay.
final class BatchSweepConformanceTests: XCTestCase {
    private static let done: [BatchCallback: WorkflowJob] = [.complete: .init(name: "done")]

    func testSettledBatchesGoOldestFirstWithinTheBoundAndNothingElse() async throws {
        try await StoreBackends.each { backend, store, _ in
            let (ledger, catalog, sql) = try Self.parts(store)
            let id = StoreBackends.id("sweep")
            let base = BatchCatalogConformanceTests.randomHourOf1990()
            func age(_ b: String, _ seconds: Double) async throws { try await Self.age(b, to: base.addingTimeInterval(seconds), on: sql) }
            // Children named `<batch>.<k>` are kept as slots, others as rows (``ChildSlots``): both are swept.
            func build(_ name: String, children: Int = 3, finish: Int? = nil, seal: Bool = true, enqueue: Bool = true,
                       parent: (batch: String, child: String)? = nil, rows: Bool = false, at seconds: Double) async throws -> String {
                let b = "\(id)-\(name)"
                let kids = (1...children).map { rows ? "\(b)-kid\($0)" : "\(b).\($0)" }
                try await ledger.open(BatchDefinition(id: b, callbacks: Self.done, parent: parent))
                try await ledger.add(children: kids, to: b)
                if seal { _ = try await ledger.seal(b) }
                for kid in kids.prefix(finish ?? children) { _ = try await ledger.finish(child: kid, in: b, outcome: .succeeded) }
                if seal, (finish ?? children) == children {
                    let claim = try await ledger.claim(.complete, of: b, by: "w", at: .now, lease: .seconds(60))
                    XCTAssertEqual(claim, .won, backend)
                    if enqueue { try await ledger.enqueued(.complete, of: b) }
                }
                try await age(b, seconds)
                return b
            }
            let oldest = try await build("oldest", at: 0)
            let second = try await build("second", rows: true, at: 10)
            let unsealed = try await build("unsealed", finish: 3, seal: false, at: 1)
            let running = try await build("running", finish: 2, at: 2)
            let stuck = try await build("stuck", enqueue: false, at: 3)
            let orphan = try await build("parent-untold", parent: (batch: "\(id)-gone", child: "\(id)-gone.1"), at: 4)
            let recent = try await build("recent", at: 7_200)
            let now = base.addingTimeInterval(3_600 + 60)  // retention 1 h: the cutoff is base + 60 s
            // Clears settled rows an earlier, interrupted run may have left before this run's hour.
            _ = try await store.sweep(SweepPolicy(retention: .seconds(3_600 + 60), batchSize: 1_000, maxBatches: 1_000), now: now)

            // Bound: 4 statements (candidates, children's rows, one chunk of slots, the row) are one batch: the oldest.
            let first = try await store.sweep(SweepPolicy(retention: .seconds(3_600), batchSize: 10, maxBatches: 4), now: now)
            XCTAssertEqual(first.batches, 1, "\(backend): bounded")
            let afterFirst = try await [catalog.view(oldest).state, catalog.view(second).state]
            XCTAssertEqual(afterFirst, [.unknown, .complete], "\(backend): oldest first")

            // Chunks of 2 children: the second batch's 3 children take two statements.
            let rest = try await store.sweep(SweepPolicy(retention: .seconds(3_600), batchSize: 2, maxBatches: 100), now: now)
            XCTAssertEqual(rest.batches, 1, backend)
            for gone in [oldest, second] {
                let view = try await catalog.view(gone)
                let kids = try await catalog.children(of: gone, after: nil, limit: 10)
                XCTAssertEqual(view.state, .unknown, backend)
                XCTAssertEqual(kids.count, 0, "\(backend): \(gone)'s children deleted with it")
                let claim = try await ledger.claim(.complete, of: gone, by: "late", at: .now, lease: .seconds(60))
                XCTAssertEqual(claim, .won, "\(backend): \(gone)'s claims deleted with it")
            }
            for (kept, state) in [(unsealed, BatchView.State.open), (running, .running), (stuck, .complete), (orphan, .complete), (recent, .complete)] {
                let view = try await catalog.view(kept)
                let kids = try await catalog.children(of: kept, after: nil, limit: 10)
                XCTAssertEqual(view.state, state, "\(backend): \(kept) kept")
                XCTAssertEqual(kids.count, 3, "\(backend): \(kept)'s children kept")
            }
            let stuckView = try await catalog.view(stuck)
            XCTAssertEqual(stuckView.callbacks.map(\.state), [.due], "\(backend): a callback not enqueued keeps its batch")
            try await Self.forget(prefix: id, on: sql)
        }
    }
    /// A sweep stopped between its statements (as a kill leaves it: each statement or transaction is atomic):
    /// the batch whose children were half deleted is still complete with its callback enqueued, and the
    /// next sweep finishes it.
    func testASweepStoppedMidBatchLeavesItSettledAndTheNextFinishesIt() async throws {
        try await StoreBackends.each { backend, store, _ in
            let (ledger, catalog, sql) = try Self.parts(store)
            let b = StoreBackends.id("halfswept")
            let base = BatchCatalogConformanceTests.randomHourOf1990()
            let kids = (1...3).map { "\(b)-kid\($0)" }  // kept as rows, deleted in chunks
            try await ledger.open(BatchDefinition(id: b, callbacks: Self.done))
            try await ledger.add(children: kids, to: b)
            _ = try await ledger.seal(b)
            for kid in kids { _ = try await ledger.finish(child: kid, in: b, outcome: .succeeded) }
            _ = try await ledger.claim(.complete, of: b, by: "w", at: .now, lease: .seconds(60))
            try await ledger.enqueued(.complete, of: b)
            try await Self.age(b, to: base, on: sql)
            let now = base.addingTimeInterval(3_600 + 60)
            try await Self.forget(prefix: "sweep-", on: sql)  // unsettled leftovers of interrupted runs would fill the candidates
            _ = try await store.sweep(SweepPolicy(retention: .seconds(3_600 + 61), batchSize: 1_000, maxBatches: 1_000), now: now)
            // 2 statements: the candidates, one chunk of 2 children; stopped before the third child and the row.
            let stopped = try await store.sweep(SweepPolicy(retention: .seconds(3_600), batchSize: 2, maxBatches: 2), now: now)
            XCTAssertEqual(stopped.batches, 0, backend)
            let half = try await catalog.view(b)
            let left = try await catalog.children(of: b, after: nil, limit: 10)
            XCTAssertEqual(half.state, .complete, "\(backend): the counters live in the row")
            XCTAssertEqual(half.callbacks.map(\.state), [.enqueued], "\(backend): the claims stay with the row")
            XCTAssertEqual(left.count, 1, backend)
            let next = try await store.sweep(SweepPolicy(retention: .seconds(3_600), batchSize: 2, maxBatches: 100), now: now)
            XCTAssertEqual(next.batches, 1, backend)
            let gone = try await catalog.view(b)
            XCTAssertEqual(gone.state, .unknown, backend)
        }
    }

    /// Deletes this test's batches (ids starting with `prefix`, aged to 1990) that no sweep takes: the kept ones.
    static func forget(prefix: String, on sql: SQLJobStore) async throws {
        let like = SQLValue.text(prefix + "%"), before1991 = SQLValue.time(Date(timeIntervalSince1970: 662_688_000))
        for table in ["warren_batch_children", "warren_batch_slots", "warren_batch_claims"] {
            try await sql.backend.run("DELETE FROM \(table) WHERE batch_id IN (SELECT id FROM warren_batches WHERE id LIKE ? AND created_at < ?)",
                                      [like, before1991])
        }
        try await sql.backend.run("DELETE FROM warren_batches WHERE id LIKE ? AND created_at < ?", [like, before1991])
    }

    static func parts(_ store: any JobStore) throws -> (any BatchLedger, any BatchCatalog, SQLJobStore) {
        (try XCTUnwrap(store.batchLedger), try XCTUnwrap(store.batchCatalog), try XCTUnwrap(store as? SQLJobStore))
    }

    /// Moves batch `b`'s creation and its finished children's finish times to `at`.
    static func age(_ b: String, to at: Date, on sql: SQLJobStore) async throws {
        try await sql.backend.run("UPDATE warren_batches SET created_at = ? WHERE id = ?", [.time(at), .text(b)])
        try await sql.backend.run("UPDATE warren_batch_children SET finished_at = ? WHERE batch_id = ? AND finished_at IS NOT NULL", [.time(at), .text(b)])
        try await sql.backend.run("UPDATE warren_batch_slots SET finished_at = ? WHERE batch_id = ? AND finished_at IS NOT NULL", [.time(at), .text(b)])
    }
}
