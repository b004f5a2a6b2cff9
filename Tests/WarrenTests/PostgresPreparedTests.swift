import Foundation
import Warren
@testable import WarrenStore
import XCTest

/// The jobs upsert of every group commit runs prepared on PostgreSQL (``PostgresPrepared``), with the same
/// effect as before: checked on the one connection of a pool of one, where the server lists it.
final class PostgresPreparedTests: XCTestCase {
    func testJobsUpsertIsPreparedOnTheConnection() async throws {
        let (backend, store) = try await StoreBackends.postgresOnOneConnection()
        let job = StoreBackends.id("prepared-job")
        // Twice: the second commit executes the statement the first one prepared.
        for state in [JobState.running, .succeeded] {
            var u = JobUpdate(id: job, state: state, attempt: 1)
            u.result = state == .succeeded ? "{\"quote\":\"\\\"\"}" : nil
            try await store.write(StoreBatch(updates: [u]))
        }
        let status = try await store.status(job)
        XCTAssertEqual(status.state, .succeeded)
        XCTAssertEqual(status.result, "{\"quote\":\"\\\"\"}")
        let names = try await backend.run("SELECT name FROM pg_prepared_statements").compactMap { $0.string("name") }
        XCTAssertTrue(names.contains(PostgresPrepared.JobsUpsert.name), "\(names)")
        await store.close()
    }
}
