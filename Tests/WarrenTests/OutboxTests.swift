import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Warren
import WarrenAMQP
import WarrenStore
import XCTest

/// Transactional enqueue against real PostgreSQL and a real broker: jobs enqueued in transactions that
/// commit run; those in transactions that roll back never do; the relay empties the outbox.
final class OutboxTests: XCTestCase {
    struct Mark: JobParameters {
        static let jobName = "outbox.mark"
        var n: Int
    }

    final class Ran: Sendable {
        let ids = Mutex<[String]>([])
    }

    func testCommittedRunRolledBackNever() async throws {
        guard case .postgres(let host, let port, let user, let password, let database) = try StoreBackends.postgresURL() else {
            return XCTFail("not a PostgreSQL URL")
        }
        let store = try await StoreBackends.postgresURL().open(logger: quietLogger("test.store"))
        let client = PostgresClient(configuration: .init(host: host, port: port, username: user, password: password,
                                                         database: database, tls: .disable), backgroundLogger: quietLogger("test.pg"))
        let clientTask = Task { await client.run() }
        let ran = Ran()
        var registry = JobRegistry()
        registry.register(Mark.self) { _, context in ran.ids.withLock { $0.append(context.jobID) } }
        let connection = try await JobsBroker.connect()
        let topology = Topology(queues: [.init(JobsBroker.uniqueQueue("outbox"))])
        let queue = topology.queues[0].name
        let (worker, producer) = try await startWorker(connection, topology, registry)
        let relay = try OutboxRelay(url: try StoreBackends.postgresURL(), connection: connection, topology: topology,
                                    lockQueue: "warren.outbox.lock.test.\(UUID().uuidString.prefix(8))", batchSize: 7,
                                    pollInterval: .seconds(5), logger: quietLogger("test.outbox"))
        let relayGroup = ServiceGroup(configuration: .init(services: [.init(service: relay)], logger: quietLogger("test.outbox")))
        let relayTask = Task { try await relayGroup.run() }

        struct Rollback: Error {}
        var committed: [String] = []
        var rolledBack: [String] = []
        let logger = quietLogger("test.pg")
        for n in 0..<30 {
            let id = StoreBackends.id("ob\(n)")
            let request = try JobRequest(Mark(n: n), options: EnqueueOptions(queue: queue, jobID: id))
            do {
                try await client.withTransaction(logger: logger) { tx in
                    try await producer.enqueue(request, in: tx)
                    if n % 3 == 0 { throw Rollback() }
                }
                committed.append(id)
            } catch {
                rolledBack.append(id)
            }
        }
        XCTAssertEqual(committed.count, 20)
        try await eventually(timeout: 20) { Set(ran.ids.withLock { $0 }).isSuperset(of: committed) }
        // Rolled-back jobs left nothing: no row in the outbox or the job table, nothing ran.
        for id in rolledBack {
            let status = try await store.status(id)
            XCTAssertEqual(status.state, .unknown, "rolled back: \(id)")
        }
        XCTAssertTrue(Set(ran.ids.withLock { $0 }).isDisjoint(with: rolledBack))
        let left = try await client.query("SELECT count(*) FROM warren_outbox WHERE id = ANY(\(committed))")
        for try await count in left.decode(Int64.self) { XCTAssertEqual(count, 0, "outbox emptied after the confirms") }
        let tracked = try await store.status(committed[0])
        XCTAssertNotEqual(tracked.state, .unknown, "committed jobs are recorded in the job table")

        await relayGroup.triggerGracefulShutdown()
        _ = try? await relayTask.value
        try await worker.stop()
        await JobsBroker.cleanUp(topology.queues[0], on: connection)
        await connection.close()
        clientTask.cancel()
        await store.close()
    }
}
