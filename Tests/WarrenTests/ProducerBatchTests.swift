import Foundation
import Warren
import WarrenAMQP
import XCTest

/// `JobProducer.enqueue(batch:)` against the real broker: more jobs than one chunk and than the confirm
/// window, spread over two queues and one that does not exist, each with the result it deserves, in order.
final class ProducerBatchTests: XCTestCase {
    func testBatchSpansChunksAndQueuesAndReportsEachResultInOrder() async throws {
        let conn = try await JobsBroker.connect()
        let a = Topology.Queue(JobsBroker.uniqueQueue("batch-a"))
        let b = Topology.Queue(JobsBroker.uniqueQueue("batch-b"))
        let missing = JobsBroker.uniqueQueue("batch-missing")
        let topology = Topology(queues: [a, b])
        try await declare(topology, on: conn)
        let producer = try await JobProducer(connection: conn, topology: topology, confirmWindow: 300)

        // 1,300 jobs: three chunks, four confirm windows; every 100th to the undeclared queue.
        let requests = (0..<1300).map { i in
            let queue = i % 100 == 99 ? missing : (i % 2 == 0 ? a.name : b.name)
            var options = EnqueueOptions(queue: queue)
            options.jobID = "job-\(i)"
            // An extra header travels; one that tries to rename the job does not win.
            options.headers = ["x-tenant": .string("t\(i % 3)"), WireFormat.Header.job: .string("impostor")]
            return JobRequest(name: "count", arguments: Array("{\"i\":\(i)}".utf8), options: options)
        }
        let results = await producer.enqueue(batch: requests)

        XCTAssertEqual(results.count, requests.count)
        for (i, result) in results.enumerated() {
            switch result {
            case .success(let id):
                XCTAssertNotEqual(requests[i].options.queue, missing, "job \(i) to a missing queue reported success")
                XCTAssertEqual(id, "job-\(i)")
            case .failure(let error):
                XCTAssertEqual(requests[i].options.queue, missing, "job \(i) failed: \(error)")
                XCTAssertEqual(error.code, .unroutable)
            }
        }
        let ch = try await conn.openChannel()
        let countA = try await ch.inspectQueue(a.name).messageCount
        let countB = try await ch.inspectQueue(b.name).messageCount
        XCTAssertEqual(countA, 650)
        XCTAssertEqual(countB, 637)

        // The first message of queue b is job 1, exactly as the wire format says.
        let first = try await ch.get(queue: b.name, noAck: true)
        let message = try XCTUnwrap(first)
        let envelope = try JobEnvelope(properties: message.properties, body: message.body)
        XCTAssertEqual(envelope.id, "job-1")
        XCTAssertEqual(envelope.name, "count")
        XCTAssertEqual(String(decoding: envelope.body, as: UTF8.self), "{\"i\":1}")
        XCTAssertEqual(message.properties.headers?["x-tenant"], .string("t1"))
        XCTAssertEqual(message.properties.persistent, true)
        XCTAssertEqual(message.exchange, WireFormat.workExchange)
        let enqueuedAt = try XCTUnwrap(envelope.enqueuedAt)
        XCTAssertLessThan(abs(enqueuedAt.timeIntervalSinceNow), 60)

        await ch.close()
        await producer.channel.close()
        await JobsBroker.cleanUp(a, on: conn)
        await JobsBroker.cleanUp(b, on: conn)
        await conn.close()
    }
}
