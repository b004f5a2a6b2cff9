import Foundation
import Warren
@testable import WarrenStore
import XCTest

/// How PostgreSQL plans a large batch's group commits, read with `EXPLAIN` on the statement and binds the
/// ledger runs (``SQLBatchLedger/analyzeAfter``).
final class PostgresBatchPlanTests: XCTestCase {
    /// A batch registered a moment ago is news to the table's statistics: unless the ledger refreshed them,
    /// the planner reads the whole batch (a bitmap scan on its id, the children's ids a filter) for every
    /// commit of a few children.
    func testALargeBatchsCommitLooksItsChildrenUpByTheirKey() async throws {
        let (backend, store) = try await StoreBackends.postgresOnOneConnection()
        guard let ledger = store.batchLedger else { return XCTFail("the PostgreSQL store has no batch ledger") }
        let batch = StoreBackends.id("plan-batch")
        let children = (0..<SQLBatchLedger.analyzeAfter).map { _ in JobID.make() }
        try await ledger.open(BatchDefinition(id: batch, callbacks: [:]))
        try await ledger.add(children: children, to: batch)
        let finishing = Array(children.shuffled().prefix(150))
        let now = SQLValue.time(Date())
        let binds: [SQLValue] = [now, .text(batch)] + finishing.sorted().map { .text($0) } + [now, .text(batch), .text(batch)]
        // The choice in question is between the batch's rows (a bitmap scan on its id) and the children's
        // keys; on a near-empty table (a fresh test database) a sequential scan beats both, whatever the
        // statistics say, so it is taken off the table for this connection.
        try await backend.run("SET enable_seqscan = off")
        let plan = try await backend.run("EXPLAIN " + BatchStatements.finishAndCount(succeeded: finishing.count, dead: 0), binds)
            .compactMap { $0.string("QUERY PLAN") }.joined(separator: "\n")
        // Looked up by key: the primary key's condition names the children (an index scan, or a bitmap of the
        // 150 keys), never the batch alone with the children as a filter over all of its rows.
        let lines = plan.split(separator: "\n")
        XCTAssertTrue(plan.contains("warren_batch_children_pkey"), plan)
        XCTAssertTrue(lines.contains { $0.contains("Index Cond:") && $0.contains("child_id") }, plan)
        XCTAssertFalse(lines.contains { $0.contains("Filter:") && $0.contains("child_id") }, plan)
        // The commit itself records exactly the children named.
        let snapshot = try await ledger.finish(child: finishing[0], in: batch, outcome: .succeeded)
        XCTAssertEqual(snapshot.succeeded, 1)
        XCTAssertEqual(snapshot.pending, children.count - 1)
        try await backend.run("RESET enable_seqscan")
        try await backend.run("DELETE FROM warren_batch_children WHERE batch_id = ?", [.text(batch)])
        try await backend.run("DELETE FROM warren_batches WHERE id = ?", [.text(batch)])
        await store.close()
    }
}
