import Foundation
import Warren
import WarrenAMQP
import XCTest

final class ExternalQueueTests: XCTestCase {
    /// A queue another system declared with no arguments (as kombu does for Celery) is consumed without a 406,
    /// and failures still reach `<queue>.dead` through Warren's own dead-lettering.
    func testExternallyDeclaredQueueIsConsumedAndDeadLettered() async throws {
        let conn = try await JobsBroker.connect()
        let name = JobsBroker.uniqueQueue("external")
        let foreign = try await conn.openChannel()
        try await foreign.declareQueue(name, durable: true)  // what Celery/kombu declares
        let q = Topology.Queue(name, maxPriority: 10, lanes: 3, external: true)
        XCTAssertNil(q.maxPriority)
        XCTAssertEqual(q.lanes, 1)
        let topology = Topology(queues: [q])
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(TestMark.self) { args, ctx in await log.add(args.label, ctx) }
        registry.register(TestPermanent.self) { _, _ in throw JobFailure.permanent("no") }
        let (running, producer) = try await startWorker(conn, topology, registry)
        try await producer.enqueue(TestMark(label: "ran"), options: .init(queue: name, delay: .milliseconds(20)))
        try await producer.enqueue(TestPermanent(), options: .init(queue: name))
        let ran = await log.wait { $0.count == 1 }
        XCTAssertTrue(ran)
        let dlq = WireFormat.deadLetterQueue(for: name)
        try await eventually { try await foreign.inspectQueue(dlq).messageCount == 1 }
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }
}
