import Foundation
import Warren
@testable import WarrenStore
import XCTest

/// What PostgreSQL's own migrations leave (``StoreSchema/postgresOnly``), read from the server's catalog.
final class PostgresSchemaTests: XCTestCase {
    /// Version 6 (and 7, for its new table): the key columns compare bytewise, whatever the database's
    /// collation; the rest keep it.
    func testKeyColumnsCompareBytewise() async throws {
        let (backend, store) = try await StoreBackends.postgresOnOneConnection()
        let rows = try await backend.run("""
            SELECT table_name, column_name, collation_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name LIKE 'warren\\_%' AND data_type = 'text'
            """)
        var collation: [String: String] = [:]
        for row in rows {
            collation["\(row.string("table_name") ?? "?").\(row.string("column_name") ?? "?")"] = row.string("collation_name") ?? "default"
        }
        let bytewise = ["warren_jobs.id", "warren_jobs.state", "warren_jobs.queue", "warren_batches.id",
                        "warren_batch_children.batch_id", "warren_batch_children.child_id",
                        "warren_batch_claims.batch_id", "warren_batch_claims.what", "warren_unique_keys.key",
                        "warren_batch_slots.batch_id"]
        for column in bytewise { XCTAssertEqual(collation[column], "C", column) }
        XCTAssertEqual(collation["warren_jobs.name"], "default", "only the key columns change")
        // Rows written and looked up through the rebuilt primary key, as before.
        let id = StoreBackends.id("bytewise-É")
        try await store.write(StoreBatch(updates: [JobUpdate(id: id, state: .succeeded, attempt: 1)]))
        let found = try await store.status(id).state
        XCTAssertEqual(found, .succeeded)
        let other = try await store.status(id.uppercased()).state
        XCTAssertEqual(other, .unknown, "ids differing in case are different jobs")
        await store.close()
    }
}
