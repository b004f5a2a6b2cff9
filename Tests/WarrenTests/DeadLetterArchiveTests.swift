import Foundation
import Warren
import WarrenAMQP
import XCTest

/// Export then import is byte for byte (every header kind, every property, a non-UTF-8 body); browsing a
/// quorum dead-letter queue keeps its order.
final class DeadLetterArchiveTests: XCTestCase {
    func testExportImportRoundTripsByteForByte() async throws {
        let connection = try await JobsBroker.connect()
        let queue = Topology.Queue(JobsBroker.uniqueQueue("dlq-archive"))
        let channel = try await connection.openChannel(confirmWindow: 10)
        try await Topology(queues: [queue]).declare(on: channel)
        let dead = WireFormat.deadLetterQueue(for: queue.name)

        let headers: FieldTable = [
            "void": .void, "bool": .bool(true), "int8": .int8(-8), "uint8": .uint8(200), "int16": .int16(-1600),
            "uint16": .uint16(60000), "int32": .int32(-32), "uint32": .uint32(4_000_000_000), "int64": .int64(.min),
            "float": .float(-0.0), "double": .double(0.1), "decimal": .decimal(scale: 2, value: 12345),
            "string": .string("ünïcode \n \"quoted\""), "bytes": .bytes([0, 255, 10, 13]), "timestamp": .timestamp(1_700_000_000),
            "array": .array([.int32(1), .string("two"), .array([.bool(false)])]),
            "table": .table(["nested": .table(["deep": .int64(42)]), "list": .array([])]),
            WireFormat.Header.job: "binary-job", WireFormat.Header.deadReason: "undecodable",
        ]
        let properties = BasicProperties(
            contentType: "application/octet-stream", contentEncoding: "identity", headers: headers, persistent: true,
            priority: 7, correlationID: "corr", replyTo: "reply.q", expiration: "86400000", messageID: "bin-1",
            timestamp: 1_700_000_123, type: "kind", userID: "guest", appID: "tests", clusterID: "cluster")
        let body: [UInt8] = [0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x0a] + Array("tail".utf8)
        XCTAssertNil(String(validating: body, as: UTF8.self), "the body must not be UTF-8")
        let plain = dlqTestMessage(id: "plain-1", job: "email", queue: queue.name, errorType: "Boom", message: "m",
                                   attempts: 2, failedAt: Date(timeIntervalSince1970: 1_700_000_000))
        let got1 = try await channel.publish(OutgoingMessage(routingKey: dead, properties: properties, body: body))
        XCTAssertEqual(got1, .acked)
        let got2 = try await channel.publish(plain)
        XCTAssertEqual(got2, .acked)

        let archive = DeadLetterArchive(connection: connection)
        var lines: [[UInt8]] = []
        let n = try await archive.export(queue: dead) { lines.append($0) }
        XCTAssertEqual(n, 2)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines.allSatisfy { $0.last == UInt8(ascii: "\n") && $0.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") } })
        let got3 = try await channel.inspectQueue(dead).messageCount
        XCTAssertEqual(got3, 2, "export leaves the queue as it was")

        // Empty the queue, then put the export back through the file reader.
        let got4 = try await DeadLetterMover(connection: connection).purge(queue: dead).done
        XCTAssertEqual(got4, 2)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dlq-\(UUID()).jsonl").path
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data(lines.joined())))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let got5 = try await archive.importLines(try DeadLetterLineReader(path: file))
        XCTAssertEqual(got5, 2)

        let back = try await DeadLetterBrowser(connection: connection).list(queue: dead)
        XCTAssertEqual(back.count, 2)
        let binary = try XCTUnwrap(back.first)
        XCTAssertEqual(binary.body, body)
        XCTAssertEqual(binary.properties.messageID, "bin-1")
        XCTAssertEqual(binary.properties.userID, "guest")
        for (key, value) in headers {
            XCTAssertEqual(binary.headers[key], value, key)
        }
        guard case .float(let zero)? = binary.headers["float"] else { return XCTFail("float lost its kind") }
        XCTAssertEqual(zero.sign, .minus)
        var withoutHeaders = binary.properties
        withoutHeaders.headers = nil
        var expected = properties
        expected.headers = nil
        XCTAssertEqual(withoutHeaders, expected)
        XCTAssertEqual(back[1].properties, plain.properties)
        XCTAssertEqual(back[1].body, plain.body)
        // A second export is the same text: nothing changed on the way.
        var again: [[UInt8]] = []
        try await archive.export(queue: dead) { again.append($0) }
        XCTAssertEqual(again, lines)

        XCTAssertThrowsError(try DeadLetterRecord.parse(Array(#"{"format":"other/9"}"#.utf8)))
        await JobsBroker.cleanUp(queue, on: connection)
        await connection.close()
    }

    /// NaN and infinities cannot go through RabbitMQ (its table parser closes the connection, 541), but the
    /// JSON form keeps every bit pattern.
    func testJSONFieldValuesKeepExactBits() throws {
        let values: [FieldValue] = [.double(.nan), .double(-.infinity), .float(.nan), .float(-0.0), .double(-0.0),
                                    .double(0.1), .int64(.min), .timestamp(.max), .uint32(.max), .decimal(scale: 3, value: 7)]
        let data = try JSONEncoder().encode(values.map(JSONFieldValue.init))
        let back = try JSONDecoder().decode([JSONFieldValue].self, from: data).map(\.value)
        XCTAssertEqual(back.count, values.count)
        for (a, b) in zip(values, back) {
            switch (a, b) {
            case (.double(let x), .double(let y)): XCTAssertEqual(x.bitPattern, y.bitPattern)
            case (.float(let x), .float(let y)): XCTAssertEqual(x.bitPattern, y.bitPattern)
            default: XCTAssertEqual(a, b)
            }
        }
    }

    func testBrowsingAQuorumDeadLetterQueueKeepsOrder() async throws {
        let connection = try await JobsBroker.connect()
        let queue = Topology.Queue(JobsBroker.uniqueQueue("dlq-quorum"))
        let channel = try await connection.openChannel(confirmWindow: 10)
        // Only the dead-letter queue, as Topology declares it in quorum mode (the shared delay levels of this
        // vhost are classic, so the whole quorum topology cannot be declared here).
        let dead = WireFormat.deadLetterQueue(for: queue.name)
        try await channel.declareQueue(dead, arguments: ["x-queue-type": "quorum"])
        for i in 0..<8 {
            let m = dlqTestMessage(id: "q\(i)", job: i % 2 == 0 ? "a" : "b", queue: queue.name, errorType: "E", message: "m",
                                   attempts: 1, failedAt: Date())
            let got6 = try await channel.publish(m)
            XCTAssertEqual(got6, .acked)
        }
        let browser = DeadLetterBrowser(connection: connection)
        let got7 = try await browser.list(queue: dead, limit: 3).map(\.id)
        XCTAssertEqual(got7, ["q0", "q1", "q2"])
        let got8 = try await browser.list(queue: dead, filter: DeadLetterFilter(jobs: ["b"])).map(\.id)
        XCTAssertEqual(got8, ["q1", "q3", "q5", "q7"])
        let purged = try await DeadLetterMover(connection: connection).purge(queue: dead, filter: DeadLetterFilter(ids: ["q4"]))
        XCTAssertEqual(purged.done, 1)
        let after = try await browser.list(queue: dead)
        XCTAssertEqual(after.map(\.id), ["q0", "q1", "q2", "q3", "q5", "q6", "q7"])
        // Each pass is one return per message in x-delivery-count (harmless without x-delivery-limit).
        XCTAssertNotNil(after.first?.headers["x-delivery-count"])
        await JobsBroker.cleanUp(queue, on: connection)
        await connection.close()
    }
}
