import Foundation
import Warren
import WarrenAMQP
import WarrenTestSupport
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
        XCTAssertEqual(message.properties.type, "count")
        XCTAssertNil(message.properties.headers?[WireFormat.Header.job], "the impostor header is not sent")
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

    /// The broker closes the producer's connection in the middle of a batch: every job still arrives (the
    /// ones whose confirm was lost are published again once the connection is back) and every result is a
    /// success; duplicates are no more than the confirm window.
    func testBatchCutByAClosedConnectionStillDeliversEveryJob() async throws {
        let name = "warren-producer-loss-\(UUID().uuidString.prefix(8))"
        var config = try AMQPConfiguration(url: JobsBroker.url)
        config.connectionName = name
        let conn = try await AMQPConnection.connect(config)
        let setup = try await JobsBroker.connect()
        let queue = Topology.Queue(JobsBroker.uniqueQueue("batch-loss"))
        let topology = Topology(queues: [queue])
        try await declare(topology, on: setup)
        let window = 50
        let producer = try await JobProducer(connection: conn, topology: topology, confirmWindow: window)
        let pids = try JobsBroker.connectionPIDs(named: name)
        XCTAssertEqual(pids.count, 1)

        let count = 40_000
        let requests = (0..<count).map { i in
            JobRequest(name: "noop", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue.name, jobID: "job-\(i)"))
        }
        let batch = Task { await producer.enqueue(batch: requests) }
        let probe = try await setup.openChannel()
        try await eventually(timeout: 30) { try await probe.inspectQueue(queue.name).messageCount >= 1000 }
        for pid in pids { try BrokerControl.rabbitmqctl(["close_connection", pid, "closed by a test"]) }
        let atClose = Int(try await probe.inspectQueue(queue.name).messageCount)
        XCTAssertLessThan(atClose, count, "the batch was done before the connection closed: nothing was tested")

        let results = await batch.value
        let failures = results.enumerated().compactMap { i, r in (try? r.get()) == "job-\(i)" ? nil : "\(i): \(r)" }
        XCTAssertEqual(failures.count, 0, "first failures: \(failures.prefix(3))")
        let total = Int(try await probe.inspectQueue(queue.name).messageCount)
        XCTAssertGreaterThanOrEqual(total, count)
        XCTAssertLessThanOrEqual(total, count + window, "more duplicates than the confirm window")
        try await probe.qos(prefetchCount: 2000)
        let consumer = try await probe.consume(queue: queue.name, noAck: true)
        let got = try await collect(consumer, count: total, timeout: 60, ack: false)
        await consumer.cancel()
        let ids = Set(got.compactMap { $0.properties.messageID })
        XCTAssertEqual(ids.count, count, "jobs missing after the connection loss")

        await probe.close()
        await producer.channel.close()
        await conn.close()
        await JobsBroker.cleanUp(queue, on: setup)
        await setup.close()
    }
}
