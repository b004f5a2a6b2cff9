import WarrenAMQP
import XCTest
import WarrenTestSupport

final class TopologyTests: XCTestCase {
    func testDeclareWithArgumentsAndInspect() async throws {
        let conn = try await TestBroker.connect()
        let ch = try await conn.openChannel()
        let dlx = TestBroker.unique("dlx")
        let q = TestBroker.unique("prio")
        let quorum = TestBroker.unique("quorum")
        try await ch.declareExchange(dlx, type: .topic, durable: false, autoDelete: true)
        let info = try await ch.declareQueue(q, durable: true, arguments: [
            "x-max-priority": .int32(10), "x-dead-letter-exchange": .string(dlx), "x-message-ttl": .int32(60_000),
        ])
        XCTAssertEqual(info.name, q)
        XCTAssertEqual(info.messageCount, 0)
        // The same declaration again is idempotent; a different one is refused with 406.
        try await ch.declareQueue(q, arguments: ["x-max-priority": .int32(10), "x-dead-letter-exchange": .string(dlx), "x-message-ttl": .int32(60_000)])
        let error = await assertAMQPError(.channelClosed, replyCode: 406) {
            try await ch.declareQueue(q, arguments: ["x-max-priority": .int32(5)])
        }
        XCTAssertTrue(error?.replyText?.contains("inequivalent arg") ?? false, "\(String(describing: error))")
        try await ch.reopen()

        try await ch.declareQueue(quorum, durable: true, arguments: ["x-queue-type": "quorum", "x-delivery-limit": .int32(5)])
        try await ch.publish(OutgoingMessage(routingKey: q, body: Array("a".utf8)))
        try await ch.publish(OutgoingMessage(routingKey: q, body: Array("b".utf8)))
        try await waitUntil { try await ch.inspectQueue(q).messageCount == 2 }
        let consuming = try await conn.openChannel()
        let consumer = try await consuming.consume(queue: q)
        let inspected = try await ch.inspectQueue(q)
        XCTAssertEqual(inspected.consumerCount, 1)
        await consumer.cancel()
        await consuming.close()  // its unacked deliveries go back to the queue

        // Bindings: exchange -> exchange -> queue.
        let src = TestBroker.unique("src")
        try await ch.declareExchange(src, type: .fanout, durable: false, autoDelete: false)
        try await ch.bindExchange(destination: dlx, source: src, routingKey: "")
        try await ch.bindQueue(quorum, exchange: dlx, routingKey: "#")
        try await ch.publish(OutgoingMessage(exchange: src, routingKey: "any", body: [1]))
        try await waitUntil { try await ch.inspectQueue(quorum).messageCount == 1 }
        try await ch.unbindQueue(quorum, exchange: dlx, routingKey: "#")
        try await ch.unbindExchange(destination: dlx, source: src, routingKey: "")
        let value1 = try await ch.purgeQueue(quorum)
        XCTAssertEqual(value1, 1)
        let value2 = try await ch.deleteQueue(q)
        XCTAssertEqual(value2, 2)
        try await ch.deleteQueue(quorum)
        try await ch.deleteExchange(src)
        try await ch.deleteExchange(dlx)
        await assertAMQPError(.channelClosed, replyCode: 404) { try await ch.inspectQueue(q) }
        await conn.close()
    }

    func testFieldTableRoundTripsEveryKindThroughTheBroker() async throws {
        let conn = try await TestBroker.connect()
        let ch = try await conn.openChannel()
        let q = TestBroker.unique("table")
        try await ch.declareQueue(q, durable: false, autoDelete: true)
        let table: FieldTable = [
            "void": .void, "bool": .bool(true), "i8": .int8(-8), "u8": .uint8(200), "i16": .int16(-30000),
            "u16": .uint16(60000), "i32": .int32(-2_000_000_000), "u32": .uint32(4_000_000_000),
            "i64": .int64(-9_000_000_000_000), "f": .float(1.5), "d": .double(-2.25),
            "dec": .decimal(scale: 2, value: 12345), "s": .string("héllo"), "x": .bytes([0, 255, 128, 1]),
            "t": .timestamp(1_700_000_000),
            "arr": .array([.int32(1), .string("two"), .array([.bool(false)]), .table(["k": .int64(3)])]),
            "nested": .table(["inner": .table(["deep": .string("yes"), "list": .array([])])]),
        ]
        try await ch.publish(OutgoingMessage(routingKey: q, properties: BasicProperties(headers: table), body: []))
        let got = try await waitForGet(ch, q)
        XCTAssertEqual(got.properties.headers, table)
        try await got.ack()
        // The same table as declare arguments (x- arguments are ignored by the broker unless known).
        let q2 = TestBroker.unique("args")
        try await ch.declareQueue(q2, durable: false, autoDelete: true, arguments: ["custom": .table(table)])
        try await ch.deleteQueue(q2)
        await conn.close()
    }

    func testPublishAndConsumeEveryProperty() async throws {
        let conn = try await TestBroker.connect()
        let ch = try await conn.openChannel(confirmWindow: 10)
        let q = TestBroker.unique("props")
        try await ch.declareQueue(q, durable: false, autoDelete: false, arguments: ["x-max-priority": .int32(9)])
        let props = BasicProperties(
            contentType: "application/json", contentEncoding: "identity", headers: ["h": "v"], persistent: true,
            priority: 7, correlationID: "corr-1", replyTo: "replies", expiration: "60000", messageID: "m-1",
            timestamp: 1_700_000_123, type: "job.type", userID: "guest", appID: "warren-tests", clusterID: "c1")
        let body = Array("{\"x\":1}".utf8) + [0xFF, 0x00]
        let outcome = try await ch.publish(OutgoingMessage(routingKey: q, properties: props, body: body))
        XCTAssertEqual(outcome, .acked)
        let consumer = try await ch.consume(queue: q)
        let d = try await collect(consumer, count: 1)[0]
        XCTAssertEqual(d.properties, props)
        XCTAssertEqual(d.body, body)
        XCTAssertEqual(d.routingKey, q)
        XCTAssertEqual(d.exchange, "")
        XCTAssertFalse(d.redelivered)
        await consumer.cancel()
        try await ch.deleteQueue(q)
        await conn.close()
    }
}

/// Polls `condition` every 50 ms for up to `timeout` seconds.
func waitUntil(timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line,
               _ condition: () async throws -> Bool) async throws {
    try await BrokerControl.poll(timeout: timeout, file: file, line: line, condition)
}

/// `basic.get` retried until a message is there.
func waitForGet(_ ch: AMQPChannel, _ queue: String, timeout: Double = 10) async throws -> AMQPDelivery {
    let deadline = ContinuousClock.now + .seconds(timeout)
    while ContinuousClock.now < deadline {
        if let d = try await ch.get(queue: queue) { return d }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw AMQPError(.timeout, "no message in \(queue) after \(timeout) s")
}
