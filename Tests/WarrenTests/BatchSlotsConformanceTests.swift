import Foundation
import Warren
@testable import WarrenStore
import XCTest

/// Compact children (`<batch>.<k>`) kept as bits of their batch's slot rows (``ChildSlots``, ``BatchSlots``),
/// on both backends (real SQLite file, real PostgreSQL), beside children kept as rows.
final class BatchSlotsConformanceTests: XCTestCase {
    /// 5,000 compact children over two chunks and two children kept as rows: registered once each (a second
    /// registration adds nothing), every child finishing twice through concurrent group commits counts
    /// once, a compact id never registered counts nothing; the batch completes exactly when the last child
    /// finishes; its children page rows first, then slots in order, each once, with its outcome.
    func testCompactChildrenAcrossChunksCountOnceBesideRows() async throws {
        try await StoreBackends.each { backend, store, _ in
            let ledger = try XCTUnwrap(store.batchLedger), catalog = try XCTUnwrap(store.batchCatalog)
            let id = StoreBackends.id("slots")
            let compact = (0..<5_000).map { ChildSlots.id(of: $0, in: id) }
            let rows = ["\(id)-x", "\(id)-y"]
            try await ledger.open(BatchDefinition(id: id, callbacks: BatchScenarios.all))
            try await ledger.add(children: compact + rows, to: id)
            try await ledger.add(children: Array(compact.prefix(10)), to: id)
            var s = try await ledger.seal(id)
            XCTAssertEqual(s.pending, 5_002, "\(backend): each child once")
            let slotRows = try await (store as! SQLJobStore).backend.run("SELECT chunk FROM warren_batch_slots WHERE batch_id = ?", [.text(id)])
            XCTAssertEqual(slotRows.count, 2, "\(backend): 5,000 compact children are two slot rows")
            let dying = ChildSlots.id(of: 4_500, in: id)
            let order = (compact + rows + compact + rows).shuffled() + [ChildSlots.id(of: 7_000, in: id)]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for child in order {
                    group.addTask { _ = try await ledger.finish(child: child, in: id, outcome: child == dying ? .dead : .succeeded) }
                }
                try await group.waitForAll()
            }
            let after0 = try await ledger.snapshot(id)
            s = try XCTUnwrap(after0)
            XCTAssertEqual([s.pending, s.succeeded, s.dead], [0, 5_001, 1], "\(backend): every child once, the unknown one never")
            var seen: [BatchChild] = []
            var after: String?
            for _ in 0..<20 {
                let page = try await BatchChildrenPage.read(id, after: after, limit: 700, from: catalog)
                seen += page.children
                guard let next = page.next else { break }
                after = next
            }
            XCTAssertEqual(seen.map(\.id), rows + compact, "\(backend): rows by id, then slots by k, each once")
            XCTAssertEqual(seen.filter { $0.outcome == .dead }.map(\.id), [dying], backend)
            XCTAssertEqual(seen.filter { $0.outcome == .succeeded }.count, 5_001, backend)
            let view = try await catalog.view(id)
            XCTAssertNotNil(view.finishedAt, "\(backend): a complete batch's finish time comes from its slots too")
        }
    }

    /// A batch whose children were registered as rows before there were slots (schema version 6) keeps its
    /// compact children as rows: those added later too, and their outcomes are recorded on the rows.
    func testABatchKeptAsRowsStaysRows() async throws {
        try await StoreBackends.each { backend, store, _ in
            let ledger = try XCTUnwrap(store.batchLedger), catalog = try XCTUnwrap(store.batchCatalog)
            let sql = try XCTUnwrap(store as? SQLJobStore)
            let id = StoreBackends.id("rowkept")
            let old = (1...3).map { ChildSlots.id(of: $0, in: id) }
            try await ledger.open(BatchDefinition(id: id, callbacks: [:]))
            // As a version-6 ledger registered them.
            for child in old {
                try await sql.backend.run("INSERT INTO warren_batch_children (batch_id, child_id) VALUES (?, ?)", [.text(id), .text(child)])
            }
            try await sql.backend.run("UPDATE warren_batches SET pending = 3 WHERE id = ?", [.text(id)])
            try await ledger.add(children: [ChildSlots.id(of: 4, in: id)], to: id)
            _ = try await ledger.seal(id)
            for k in 1...4 { _ = try await ledger.finish(child: ChildSlots.id(of: k, in: id), in: id, outcome: .succeeded) }
            let found = try await ledger.snapshot(id)
            let s = try XCTUnwrap(found)
            XCTAssertEqual([s.pending, s.succeeded], [0, 4], backend)
            let slots = try await sql.backend.run("SELECT chunk FROM warren_batch_slots WHERE batch_id = ?", [.text(id)])
            XCTAssertEqual(slots.count, 0, "\(backend): no slots for a batch kept as rows")
            let page1 = try await BatchChildrenPage.read(id, after: nil, limit: 2, from: catalog)
            let page2 = try await BatchChildrenPage.read(id, after: page1.next, limit: 2, from: catalog)
            XCTAssertEqual((page1.children + page2.children).map(\.id), (1...4).map { ChildSlots.id(of: $0, in: id) }, backend)
            XCTAssertEqual(Set((page1.children + page2.children).map(\.outcome)), [.succeeded], backend)
        }
    }

    /// One commit reporting a child both ways counts it as succeeded, and a slot never registered not at
    /// all: PostgreSQL's statement (the server combines the bitmaps) and SQLite's transaction alike.
    func testACommitCountsSuccessesFirstAndOnlyRegisteredSlots() async throws {
        try await StoreBackends.each { backend, store, _ in
            let ledger = try XCTUnwrap(store.batchLedger), sql = try XCTUnwrap(store as? SQLJobStore)
            let id = StoreBackends.id("both")
            try await ledger.open(BatchDefinition(id: id, callbacks: [:]))
            try await ledger.add(children: (1...4).map { ChildSlots.id(of: $0, in: id) }, to: id)
            let (ok, dead) = ([1, 2, 2], [2, 3, 9])
            if sql.backend.writableCTEs {
                try await sql.backend.run(BatchSlots.finishInOneStatement, BatchSlots.finishBinds(succeeded: ok, dead: dead, in: id, at: Date()))
            } else {
                let b = sql.backend
                _ = try await b.transaction { s throws(StoreError) in
                    let r = try await BatchSlots.finish(succeeded: ok, dead: dead, in: id, at: Date(), on: s, of: b)
                    try await s.run(BatchStatements.count, [.int(r.succeeded + r.dead), .int(r.succeeded), .int(r.dead), .text(id)])
                    return r.unregistered.dead
                }
            }
            let found = try await ledger.snapshot(id)
            let s = try XCTUnwrap(found)
            XCTAssertEqual([s.succeeded, s.dead, s.pending], [2, 1, 1], "\(backend): 2 succeeded (reported both ways), 9 not a child")
        }
    }
}
