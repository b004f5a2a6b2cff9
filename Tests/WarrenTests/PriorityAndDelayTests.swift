import Foundation
@testable import Warren
import WarrenAMQP
import XCTest

struct TestMark: JobParameters {
    static let jobName = "test-mark"
    var label: String
}

final class PriorityAndDelayTests: XCTestCase {
    private func runOrder(_ queue: Topology.Queue, jobs: [(String, UInt8)], connection conn: AMQPConnection) async throws -> [String] {
        let topology = Topology(queues: [queue])
        try await declare(topology, on: conn)
        let producer = try await JobProducer(connection: conn, topology: topology)
        for (label, priority) in jobs {
            try await producer.enqueue(TestMark(label: label), options: .init(queue: queue.name, priority: priority))
        }
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(TestMark.self) { args, ctx in await log.add(args.label, ctx) }
        let (running, _) = try await startWorker(conn, topology, registry) { config in
            config.concurrency = 1
            config.prefetch = 10  // everything already queued is buffered, so the choice sees all lanes
        }
        let done = await log.wait { $0.count == jobs.count }
        XCTAssertTrue(done)
        try await running.stop()
        await JobsBroker.cleanUp(queue, on: conn)
        return await log.entries.map(\.name)
    }

    func testPriorityQueueRunsHighestFirst() async throws {
        let conn = try await JobsBroker.connect()
        let order = try await runOrder(Topology.Queue(JobsBroker.uniqueQueue("prio"), maxPriority: 10),
                                       jobs: [("low", 1), ("high", 9), ("mid", 5), ("high2", 9)], connection: conn)
        XCTAssertEqual(order, ["high", "high2", "mid", "low"])
        await conn.close()
    }

    /// A queue declared with a priority (as Warren's CLI did by default) is taken as it is by a topology that
    /// asks for none, and keeps ordering by priority; one whose other arguments differ is still refused.
    func testAQueueThatHasAPriorityIsTakenAsItIsByATopologyWithout() async throws {
        let conn = try await JobsBroker.connect()
        let name = JobsBroker.uniqueQueue("adopt")
        let ch = try await conn.openChannel()
        let old = Topology(queues: [Topology.Queue(name, maxPriority: 10)])
        try await old.declare(on: ch)
        // The worker below declares `Topology.Queue(name)`: no priority.
        let order = try await runOrder(Topology.Queue(name), jobs: [("low", 1), ("high", 9), ("mid", 5)], connection: conn)
        XCTAssertEqual(order, ["high", "mid", "low"])
        // Another argument differing is not adopted: a queue with priority and a length limit it was not declared with.
        try await old.declare(on: ch)
        do {
            try await Topology(queues: [Topology.Queue(name, maxLength: 5)]).declare(on: ch)
            XCTFail("a queue with other arguments besides its priority was taken")
        } catch {
            XCTAssertEqual(error.replyCode, 406)
        }
        await JobsBroker.cleanUp(Topology.Queue(name), on: conn)
        await conn.close()
    }

    func testTheExistingPriorityIsReadFromTheBrokersRefusal() {
        let text = "PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue 'q' in vhost '/': received none but current is the value '10' of type 'signedint'"
        XCTAssertEqual(QueueDeclaration.existingPriority(refusal: AMQPError(.channelClosed, "closed", replyCode: 406, replyText: text)), 10)
        let other = "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received none but current is the value '5' of type 'long'"
        XCTAssertNil(QueueDeclaration.existingPriority(refusal: AMQPError(.channelClosed, "closed", replyCode: 406, replyText: other)))
        let changed = "PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue 'q' in vhost '/': received the value '5' of type 'signedint' but current is the value '10' of type 'signedint'"
        XCTAssertNil(QueueDeclaration.existingPriority(refusal: AMQPError(.channelClosed, "closed", replyCode: 406, replyText: changed)))
    }

    func testPriorityLanesRunHighestLaneFirst() async throws {
        let conn = try await JobsBroker.connect()
        let order = try await runOrder(Topology.Queue(JobsBroker.uniqueQueue("lanes"), lanes: 3),
                                       jobs: [("l0", 0), ("l2", 7), ("l1", 1), ("l2b", 2)], connection: conn)
        XCTAssertEqual(order, ["l2", "l2b", "l1", "l0"])
        await conn.close()
    }

    func testDelayRoutingKeysAndLevels() {
        XCTAssertEqual(DelayRouting.levels(for: 50), [5, 4, 1])          // 50 = 32 + 16 + 2
        XCTAssertEqual(DelayRouting.levels(for: 2000), [10, 9, 8, 7, 6, 4])  // 2000 = 1024+512+256+128+64+16
        XCTAssertEqual(DelayRouting.levels(for: 3_600_000).first, 21)    // 1 h: highest level 2^21 ms
        let key = DelayRouting.routingKey(milliseconds: 5, queue: "emails.high")
        XCTAssertEqual(key, String(repeating: "0.", count: 29) + "1.0.1.emails.high")
        XCTAssertEqual(DelayRouting.routingKey(milliseconds: UInt64.max, queue: "q"),
                       String(repeating: "1.", count: 32) + "q")
    }

    func testShortDelaysRunOnTimeAndLongDelaySitsInItsLevel() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("delay"))
        let topology = Topology(queues: [q])
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(TestMark.self) { args, ctx in await log.add(args.label, ctx) }
        let (running, producer) = try await startWorker(conn, topology, registry)
        let ch = try await conn.openChannel()

        let longID = try await producer.enqueue(TestMark(label: "hour"), options: .init(queue: q.name, delay: .seconds(3600)))
        let start = Date()
        try await producer.enqueue(TestMark(label: "2s"), options: .init(queue: q.name, delay: .seconds(2)))
        try await producer.enqueue(TestMark(label: "50ms"), options: .init(queue: q.name, delay: .milliseconds(50)))
        try await producer.enqueue(TestMark(label: "now"), options: .init(queue: q.name))
        let done = await log.wait { $0.count == 3 }
        XCTAssertTrue(done)
        let entries = await log.entries
        XCTAssertEqual(entries.map(\.name), ["now", "50ms", "2s"], "a short delay never waits behind a longer one")
        let at = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.at.timeIntervalSince(start)) })
        XCTAssertGreaterThanOrEqual(at["50ms"]!, 0.05)
        XCTAssertGreaterThanOrEqual(at["2s"]!, 2.0)

        // The hour-long job waits in level 21 (2^21 ms), the highest digit of 3,600,000: find it there.
        let level = DelayRouting.queue(level: 21)
        let browse = try await conn.openChannel()
        var found: AMQPDelivery?
        for _ in 0..<10_000 {
            guard let d = try await browse.get(queue: level) else { break }
            if d.properties.messageID == longID {
                found = d
                break
            }
        }
        let hour = try XCTUnwrap(found, "the 1 h job is not in \(level)")
        XCTAssertEqual(hour.routingKey, DelayRouting.routingKey(milliseconds: 3_600_000, queue: q.name))
        XCTAssertEqual(hour.exchange, WireFormat.delayExchange)
        try await hour.ack()  // remove ours; everything else browsed goes back on close
        await browse.close()
        let observed1 = await log.count("hour")
        XCTAssertEqual(observed1, 0)
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    func testRunAtHeaderInTheFutureIsDeferredNotRunEarly() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("runat"))
        let topology = Topology(queues: [q])
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(TestMark.self) { args, ctx in await log.add(args.label, ctx) }
        let (running, _) = try await startWorker(conn, topology, registry)
        let ch = try await conn.openChannel(confirmWindow: 10)
        let runAt = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 1.5).rounded(.down))  // whole seconds: ISO-8601 below
        // Published straight to the work queue, as a producer without delay routing would.
        let message = OutgoingMessage(exchange: WireFormat.workExchange, routingKey: q.name, properties: BasicProperties(
            contentType: "application/json",
            headers: [WireFormat.Header.job: .string(TestMark.jobName), WireFormat.Header.runAt: .string(ISO8601DateFormatter().string(from: runAt))],
            persistent: true, messageID: "deferred"), body: Array(#"{"label":"later"}"#.utf8))
        let observed2 = try await ch.publish(message)
        XCTAssertEqual(observed2, .acked)
        let ran = await log.wait { $0.count == 1 }
        XCTAssertTrue(ran)
        let firstAt = await log.entries.first?.at
        let when = try XCTUnwrap(firstAt)
        XCTAssertGreaterThanOrEqual(when.timeIntervalSince(runAt), -0.01, "ran before its run-at time")
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }
}
