import Foundation
import Warren
@testable import WarrenStore
import XCTest

/// Reading batches (``BatchCatalog``) and sweeping settled ones, on both backends (real SQLite file, real
/// PostgreSQL). Batches are built through the ledger as workers build them; the sweep tests then age their
/// rows to a random hour of 1990, so only this run's rows are old enough for the sweep "then", whatever
/// else the shared database holds.
final class BatchCatalogConformanceTests: XCTestCase {
    private func parts(_ store: any JobStore) throws -> (any BatchLedger, any BatchCatalog) {
        (try XCTUnwrap(store.batchLedger), try XCTUnwrap(store.batchCatalog))
    }

    /// A batch seen at every stage: open, running, a death (its callback due, then enqueued; `success`
    /// never), complete with a finish time; its children paged two by two with their outcomes and jobs.
    func testABatchAtEveryStageAndItsChildrenInPages() async throws {
        try await StoreBackends.each { backend, store, _ in
            let (ledger, catalog) = try parts(store)
            let id = StoreBackends.id("view")
            let children = (1...5).map { "\(id).\($0)" }
            let unknown = try await catalog.view("\(id)-never-opened")
            XCTAssertEqual(unknown.state, .unknown, backend)
            try await ledger.open(BatchDefinition(id: id, callbacks: BatchScenarios.all))
            try await ledger.add(children: children, to: id)
            var v = try await catalog.view(id)
            XCTAssertEqual([v.state == .open ? 1 : 0, v.pending, v.total, v.finished], [1, 5, 5, 0], backend)
            XCTAssertEqual(v.callbacks.map(\.kind), [.death, .complete, .success], backend)
            XCTAssertEqual(Set(v.callbacks.map(\.state)), [.waiting], backend)
            XCTAssertNotNil(v.createdAt, backend)
            _ = try await ledger.seal(id)
            _ = try await ledger.finish(child: children[0], in: id, outcome: .dead)
            v = try await catalog.view(id)
            XCTAssertEqual(v.state, .running, backend)
            XCTAssertEqual(v.callbacks.map(\.state), [.due, .waiting, .never], backend)
            XCTAssertEqual(v.callbacks.first?.jobID, "\(id).death", backend)
            _ = try await ledger.claim(.death, of: id, by: "w", at: .now, lease: .seconds(60))
            try await ledger.enqueued(.death, of: id)
            for child in children.dropFirst() { _ = try await ledger.finish(child: child, in: id, outcome: .succeeded) }
            v = try await catalog.view(id)
            XCTAssertEqual(v.state, .complete, backend)
            XCTAssertEqual([v.pending, v.succeeded, v.dead, v.total], [0, 4, 1, 5], backend)
            XCTAssertEqual(v.callbacks.map(\.state), [.enqueued, .due, .never], backend)
            XCTAssertNotNil(v.finishedAt, backend)

            var job = JobUpdate(id: children[0], state: .dead, attempt: 3)
            job.name = "resize"
            job.lastError = "Boom: <script>alert(1)</script>"
            try await store.write(StoreBatch(updates: [job]))
            var seen: [BatchChild] = []
            var after: String?
            for _ in 0..<10 {
                let page = try await BatchChildrenPage.read(id, after: after, limit: 2, from: catalog)
                XCTAssertLessThanOrEqual(page.children.count, 2, backend)
                seen += page.children
                guard let next = page.next else { break }
                after = next
            }
            XCTAssertEqual(seen.map(\.id), children.sorted(), "\(backend): every child once, in id order")
            XCTAssertEqual(seen.map(\.outcome), [.dead, .succeeded, .succeeded, .succeeded, .succeeded], backend)
            XCTAssertEqual(seen.first?.job?.lastError, "Boom: <script>alert(1)</script>", backend)
            XCTAssertEqual(seen.first?.job?.name, "resize", backend)
            XCTAssertNil(seen.last?.job, "\(backend): a child without a job row has none")
        }
    }

    /// Recent batches come newest first in keyset pages: three batches created a millisecond apart are
    /// listed in that order, each once, across pages of two; a nested one names its parent.
    func testRecentBatchesNewestFirstInPages() async throws {
        try await StoreBackends.each { backend, store, _ in
            let (ledger, catalog) = try parts(store)
            let sql = try XCTUnwrap(store as? SQLJobStore)
            let id = StoreBackends.id("recent")
            let base = Self.randomHourOf1990()
            let ids = (1...3).map { "\(id)-\($0)" }
            for (k, b) in ids.enumerated() {
                let parent = k == 2 ? (batch: ids[0], child: "\(ids[0]).1") : nil
                try await ledger.open(BatchDefinition(id: b, callbacks: [.complete: .init(name: "done")], parent: parent))
                try await sql.backend.run("UPDATE warren_batches SET created_at = ? WHERE id = ?", [.time(base.addingTimeInterval(Double(k) / 1000)), .text(b)])
            }
            var listed: [BatchView] = []
            var after = JobCursor(text: "\(Int64((base.timeIntervalSince1970 * 1000).rounded()) + 3):-")
            for _ in 0..<5 {
                let page = try await BatchListPage.read(after: after, limit: 2, from: catalog)
                listed += page.batches.filter { $0.id.hasPrefix(id) }
                guard let next = page.next, listed.count < 3 else { break }
                after = next
            }
            XCTAssertEqual(listed.map(\.id), ids.reversed(), "\(backend): newest first, each once")
            XCTAssertEqual(listed.first?.parentBatch, ids[0], backend)
            XCTAssertEqual(listed.first?.parentChild, "\(ids[0]).1", backend)
            XCTAssertEqual(listed.last?.state, .open, backend)
        }
    }

    /// A random whole hour of 1990 (ms precision, as the stores keep times).
    static func randomHourOf1990() -> Date {
        Date(timeIntervalSince1970: 631_152_000 + Double(Int.random(in: 0..<8_000)) * 3_600)
    }
}
