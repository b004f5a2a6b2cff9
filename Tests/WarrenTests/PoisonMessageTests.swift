import Foundation
import Warren
import WarrenAMQP
import XCTest

struct TestTyped: JobParameters {
    static let jobName = "test-typed"
    var count: Int
    var label: String
}

final class PoisonMessageTests: XCTestCase {
    /// Every kind of bad input lands in the dead-letter queue with its reason; the worker goes on.
    func testPoisonMessagesAreDeadLetteredWithReasons() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("poison"))
        let topology = Topology(queues: [q])
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(TestTyped.self) { args, ctx in await log.add("typed", ctx, note: "\(args.count) \(args.label)") }
        let (running, _) = try await startWorker(conn, topology, registry) { config in
            config.maxMessageBytes = 1000
        }
        let ch = try await conn.openChannel(confirmWindow: 100)

        func raw(_ id: String, headers: FieldTable, contentType: String? = "application/json", body: String) -> OutgoingMessage {
            OutgoingMessage(exchange: WireFormat.workExchange, routingKey: q.name, mandatory: true,
                            properties: BasicProperties(contentType: contentType, headers: headers, persistent: true, messageID: id),
                            body: Array(body.utf8))
        }
        let job: FieldTable = [WireFormat.Header.job: .string(TestTyped.jobName)]
        let cases: [(String, OutgoingMessage, DeadLetterReason, String)] = [
            ("bad-json", raw("bad-json", headers: job, body: "{not json"), .undecodable, "not valid JSON"),
            ("no-name", raw("no-name", headers: [:], body: "{}"), .undecodable, "missing header 'warren-job'"),
            ("xml", raw("xml", headers: job, contentType: "application/xml", body: "<a/>"), .undecodable, "content type 'application/xml'"),
            ("unknown", raw("unknown", headers: [WireFormat.Header.job: "nope"], body: "{}"), .unknownJob, "no job named 'nope'"),
            ("wrong-type", raw("wrong-type", headers: job, body: #"{"count":"three","label":"x"}"#), .invalidArguments, "arguments.count"),
            ("missing-arg", raw("missing-arg", headers: job, body: #"{"count":3}"#), .invalidArguments, "missing required argument 'label'"),
            ("too-big", raw("too-big", headers: job, body: String(repeating: " ", count: 2000) + #"{"count":1,"label":"x"}"#), .oversized, "2023 bytes"),
            ("expired", raw("expired", headers: job.merging([WireFormat.Header.expiresAt: .int64(1000)]) { $1 },
                            body: #"{"count":1,"label":"x"}"#), .expired, "expired"),
        ]
        for (_, message, _, _) in cases {
            let outcome = try await ch.publish(message)
            XCTAssertEqual(outcome, .acked)
        }
        // A good job after all of them still runs; string-typed headers (shell producers) are accepted.
        let good = raw("good", headers: [WireFormat.Header.job: .string(TestTyped.jobName), WireFormat.Header.attempt: "1"],
                       body: #"{"count":7,"label":"ok"}"#)
        let observed1 = try await ch.publish(good)
        XCTAssertEqual(observed1, .acked)
        let ran = await log.wait { $0.contains { $0.id == "good" } }
        XCTAssertTrue(ran)
        let goodNote = await log.entries.first { $0.id == "good" }?.note
        XCTAssertEqual(goodNote, "7 ok")

        let dlq = WireFormat.deadLetterQueue(for: q.name)
        try await eventually { try await ch.inspectQueue(dlq).messageCount == UInt32(cases.count) }
        let dead = try await drain(dlq, on: ch)
        let byID = Dictionary(uniqueKeysWithValues: dead.map { ($0.properties.messageID ?? "", $0) })
        for (id, message, reason, text) in cases {
            let d = try XCTUnwrap(byID[id], id)
            let headers = d.properties.headers ?? [:]
            XCTAssertEqual(headers[WireFormat.Header.deadReason]?.stringValue, reason.rawValue, id)
            let error = headers[WireFormat.Header.errorMessage]?.stringValue ?? ""
            XCTAssertTrue(error.contains(text), "\(id): '\(error)' should mention '\(text)'")
            XCTAssertEqual(d.body, message.body, "\(id): body must be kept byte for byte")
            XCTAssertEqual(headers[WireFormat.Header.queue]?.stringValue, q.name, id)
        }
        let unknown = try XCTUnwrap(byID["unknown"]?.properties.headers?[WireFormat.Header.errorMessage]?.stringValue)
        XCTAssertTrue(unknown.contains(TestTyped.jobName), "the error lists the jobs this worker knows")
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    func testProducerRejectsUnroutableAndOversized() async throws {
        let conn = try await JobsBroker.connect()
        let producer = try await JobProducer(connection: conn, maxMessageBytes: 100)
        do {
            try await producer.enqueue(name: "x", arguments: Array("{}".utf8), options: .init(queue: JobsBroker.uniqueQueue("nowhere")))
            XCTFail("expected unroutable")
        } catch {
            XCTAssertEqual(error.code, .unroutable)
            XCTAssertTrue(error.message.contains("does not exist"), error.message)
        }
        do {
            try await producer.enqueue(name: "x", arguments: Array(repeating: 32, count: 101))
            XCTFail("expected oversized")
        } catch {
            XCTAssertEqual(error.code, .oversized)
        }
        await conn.close()
    }
}
