import Synchronization
import WarrenAMQP
import WarrenTestSupport
import XCTest

final class ConfirmAndConsumeTests: XCTestCase {
    func testConfirmAckReturnAndNack() async throws {
        let conn = try await TestBroker.connect()
        let ch = try await conn.openChannel(confirmWindow: 100)
        let q = TestBroker.unique("confirm")
        try await ch.declareQueue(q, durable: false, arguments: ["x-max-length": .int32(1), "x-overflow": "reject-publish"])
        let first = try await ch.publish(OutgoingMessage(routingKey: q, mandatory: true, body: [1]))
        XCTAssertEqual(first, .acked)
        // Queue full with reject-publish: the broker nacks.
        let second = try await ch.publish(OutgoingMessage(routingKey: q, body: [2]))
        XCTAssertEqual(second, .nacked)
        // Unroutable with mandatory: returned (312 NO_ROUTE), then confirmed.
        let lost = try await ch.publish(OutgoingMessage(routingKey: TestBroker.unique("nowhere"), mandatory: true,
                                                        properties: BasicProperties(messageID: "ret-1"), body: [3]))
        XCTAssertEqual(lost, .returned(replyCode: 312, replyText: "NO_ROUTE"))
        // Unroutable without mandatory: silently acked (that is AMQP).
        let dropped = try await ch.publish(OutgoingMessage(routingKey: TestBroker.unique("nowhere"), body: [4]))
        XCTAssertEqual(dropped, .acked)
        try await ch.deleteQueue(q)
        await conn.close()
    }

    func testBatchPublishKeepsOrderAndMixesOutcomes() async throws {
        let conn = try await TestBroker.connect()
        let ch = try await conn.openChannel(confirmWindow: 50)
        let q = TestBroker.unique("batch")
        try await ch.declareQueue(q, durable: true)
        var messages = (0..<500).map { i in
            OutgoingMessage(routingKey: q, properties: BasicProperties(persistent: true), body: Array("\(i)".utf8))
        }
        messages.insert(OutgoingMessage(routingKey: "no-such-queue-\(UUID())", mandatory: true, body: []), at: 250)
        let outcomes = await ch.publish(messages)
        XCTAssertEqual(outcomes.count, 501)
        XCTAssertEqual(outcomes.filter { (try? $0.get()) == .acked }.count, 500)
        XCTAssertEqual(try outcomes[250].get(), .returned(replyCode: 312, replyText: "NO_ROUTE"))
        let value1 = try await ch.inspectQueue(q).messageCount
        XCTAssertEqual(value1, 500)
        try await ch.qos(prefetchCount: 100)
        let consumer = try await ch.consume(queue: q)
        let got = try await collect(consumer, count: 500)
        XCTAssertEqual(got.map { String(decoding: $0.body, as: UTF8.self) }, (0..<500).map { "\($0)" })
        await consumer.cancel()
        try await waitUntil { try await ch.inspectQueue(q).messageCount == 0 }
        try await ch.deleteQueue(q)
        await conn.close()
    }

    func testNackRequeueRedeliversAndRejectDropsToDeadLetters() async throws {
        let conn = try await TestBroker.connect()
        let ch = try await conn.openChannel()
        let q = TestBroker.unique("nack")
        let dead = TestBroker.unique("dead")
        try await ch.declareQueue(dead, durable: false)
        try await ch.declareQueue(q, durable: false, arguments: ["x-dead-letter-exchange": "", "x-dead-letter-routing-key": .string(dead)])
        try await ch.publish(OutgoingMessage(routingKey: q, body: [9]))
        let first = try await waitForGet(ch, q)
        XCTAssertFalse(first.redelivered)
        try await first.nack(requeue: true)
        let again = try await waitForGet(ch, q)
        XCTAssertTrue(again.redelivered)
        try await again.reject(requeue: false)
        let deadLettered = try await waitForGet(ch, dead)
        XCTAssertEqual(deadLettered.body, [9])
        XCTAssertEqual(deadLettered.properties.headers?["x-death"]?.arrayValue?.count, 1)
        try await deadLettered.ack()
        await assertAMQPError(.protocolError) { try await deadLettered.ack() }  // settled twice
        try await ch.deleteQueue(q)
        try await ch.deleteQueue(dead)
        await conn.close()
    }

    func testQueueDeletedUnderConsumerEndsStreamWithCancel() async throws {
        let conn = try await TestBroker.connect()
        let ch = try await conn.openChannel()
        let other = try await conn.openChannel()
        let q = TestBroker.unique("cancel")
        try await ch.declareQueue(q, durable: false)
        let consumer = try await ch.consume(queue: q)
        try await other.deleteQueue(q)
        do {
            for try await _ in consumer { XCTFail("no delivery expected") }
            XCTFail("stream ended without an error")
        } catch let error as AMQPError {
            XCTAssertEqual(error.code, .consumerCancelled)
            XCTAssertTrue(error.message.contains(q))
        }
        // The channel itself is still fine.
        try await ch.declareQueue(q, durable: false)
        try await ch.deleteQueue(q)
        await conn.close()
    }

    /// The handler form: deliveries in order on the I/O thread, acks from other tasks, then one `.ended(nil)`
    /// on cancel; and `.ended(consumerCancelled)` when the broker cancels it. Every wait is bounded.
    func testHandlerConsumerDeliversInOrderAndEndsOnceOnCancelOrBrokerCancel() async throws {
        final class Events: Sendable {
            private let list = Mutex<[AMQPConsumerEvent]>([])
            func add(_ e: AMQPConsumerEvent) { list.withLock { $0.append(e) } }
            var all: [AMQPConsumerEvent] { list.withLock { $0 } }
            var bodies: [String] {
                all.compactMap { if case .delivery(let d) = $0 { String(decoding: d.body, as: UTF8.self) } else { nil } }
            }
            var ends: [AMQPError?] { all.compactMap { if case .ended(let e) = $0 { e } else { nil } } }
        }
        let conn = try await TestBroker.connect()
        let ch = try await conn.openChannel()
        let q = TestBroker.unique("handler")
        try await ch.declareQueue(q, durable: false)
        _ = await ch.publish((0..<200).map { OutgoingMessage(routingKey: q, body: Array("\($0)".utf8)) })
        try await ch.qos(prefetchCount: 50)
        let events = Events()
        let consumer = try await ch.consume(queue: q) { event in
            events.add(event)
            // Prefetch 50: the other 150 only come if acks from other tasks land.
            if case .delivery(let d) = event { Task { try await d.ack() } }
        }
        try await waitUntil { events.bodies.count == 200 }
        XCTAssertEqual(events.bodies, (0..<200).map { "\($0)" })
        for try await _ in consumer { XCTFail("the sequence of a handler consumer is empty") }
        await consumer.cancel()
        try await waitUntil { events.ends.count == 1 }
        XCTAssertEqual(events.ends.count, 1)
        XCTAssertNil(events.ends.first ?? AMQPError(.protocolError, "no end"), "a cancel we asked for ends normally")
        try await waitUntil { try await ch.inspectQueue(q).messageCount == 0 }

        // Broker-side cancel (queue deleted) ends it with the reason.
        let other = try await conn.openChannel()
        let cancelled = Events()
        _ = try await ch.consume(queue: q) { cancelled.add($0) }
        try await other.deleteQueue(q)
        try await waitUntil { cancelled.ends.count == 1 }
        XCTAssertEqual(cancelled.ends.first??.code, .consumerCancelled)
        await conn.close()
    }

    func testUnknownDeliveryTagClosesChannelAndReopenWorks() async throws {
        let conn = try await TestBroker.connect()
        let ch = try await conn.openChannel()
        try await ch.ack(deliveryTag: 9999)
        // The 406 arrives asynchronously; the next operation on the channel reports it.
        var error: AMQPError?
        for _ in 0..<50 {
            do { _ = try await ch.declareQueue("", durable: false, exclusive: true, autoDelete: true) } catch let e as AMQPError {
                error = e
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(error?.code, .channelClosed)
        XCTAssertEqual(error?.replyCode, 406)
        XCTAssertTrue(error?.replyText?.contains("unknown delivery tag 9999") ?? false, "\(String(describing: error))")
        let reason = await ch.closeReason
        XCTAssertEqual(reason?.replyCode, 406)
        try await ch.reopen()
        let info = try await ch.declareQueue("", durable: false, exclusive: true, autoDelete: true)
        XCTAssertTrue(info.name.hasPrefix("amq.gen-"))
        XCTAssertTrue(conn.isConnected)
        await conn.close()
    }

    func testAcksFromManyTasksAllLand() async throws {
        let conn = try await TestBroker.connect()
        let ch = try await conn.openChannel(confirmWindow: 500)
        let q = TestBroker.unique("manyacks")
        try await ch.declareQueue(q, durable: false)
        _ = await ch.publish((0..<2000).map { _ in OutgoingMessage(routingKey: q, body: [0]) })
        try await ch.qos(prefetchCount: 200)
        let consumer = try await ch.consume(queue: q)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var n = 0
            for try await d in consumer {
                group.addTask { try await Task.sleep(for: .microseconds(Int.random(in: 0...500))); try await d.ack() }
                n += 1
                if n == 2000 { break }
            }
            try await group.waitForAll()
        }
        await consumer.cancel()
        try await waitUntil { try await ch.inspectQueue(q).messageCount == 0 }
        // Nothing left unacked: after closing the channel nothing is requeued.
        await ch.close()
        let check = try await conn.openChannel()
        try await Task.sleep(for: .milliseconds(200))
        let value2 = try await check.inspectQueue(q).messageCount
        XCTAssertEqual(value2, 0)
        try await check.deleteQueue(q)
        await conn.close()
    }
}
