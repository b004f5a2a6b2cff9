import Foundation
import Warren
import WarrenAMQP
import XCTest

private struct CeleryAdd: JobParameters {
    static let jobName = "tasks.add"
    var x: Int
    var y: Int
}

private struct CeleryBoom: JobParameters {
    static let jobName = "tasks.boom"
}

/// Celery protocol 2 messages published the way `send_task` does (default exchange, routing key = queue),
/// consumed by a real worker with the Celery format enabled.
final class CeleryWorkerTests: XCTestCase {
    func testCeleryTasksRunRetryAndDeadLetter() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("celery"))
        let topology = Topology(queues: [q])
        try await declare(topology, on: conn)
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(CeleryAdd.self, positionalArguments: ["x", "y"]) { args, ctx in
            await log.add("add", ctx, note: "\(args.x + args.y)")
        }
        registry.register(CeleryBoom.self, retry: RetryPolicy(maxAttempts: 2, backoff: .init(base: .milliseconds(50), cap: .milliseconds(100), jitter: 0))) { _, ctx in
            await log.add("boom", ctx)
            throw JobFailure.retryable("boom on attempt \(ctx.attempt)")
        }
        CeleryChordUnlock.register(in: &registry, store: nil)
        var config = WorkerConfiguration()
        config.queues = [q.name]
        config.foreignFormats = [.celery]
        // Without a job store (no ledger): a chord's header task is dead-lettered naming WARREN_STORE, not run.
        let running = RunningWorker.start(Worker(connection: conn, registry: registry, topology: topology, configuration: config,
                                                 middleware: [WorkflowMiddleware(connection: conn, topology: topology)],
                                                 logger: quietLogger("celery")))
        let ch = try await conn.openChannel(confirmWindow: 10)

        func send(_ task: String, id: String, eta: Date? = nil, expires: Date? = nil, embed: String = "{}", body args: String) async throws {
            let iso = { (d: Date) in FieldValue.string(Self.pythonISO(d)) }
            let headers: FieldTable = ["lang": "py", "task": .string(task), "id": .string(id), "retries": .int32(0),
                                       "eta": eta.map(iso) ?? .void, "expires": expires.map(iso) ?? .void,
                                       "timelimit": .array([.void, .void]), "root_id": .string(id), "parent_id": .void]
            let message = OutgoingMessage(exchange: "", routingKey: q.name, mandatory: true,
                                          properties: BasicProperties(contentType: "application/json", contentEncoding: "utf-8",
                                                                      headers: headers, persistent: true, correlationID: id),
                                          body: Array("[\(args), \(embed)]".utf8))
            let outcome = try await ch.publish(message)
            XCTAssertEqual(outcome, .acked, id)
        }
        try await send("tasks.add", id: "now", body: #"[2], {"y": 3}"#)
        let eta = Date().addingTimeInterval(1.5)
        try await send("tasks.add", id: "countdown", eta: eta, expires: Date().addingTimeInterval(60),
                       body: #"[10, 20], {}"#)
        try await send("tasks.add", id: "expired", expires: Date().addingTimeInterval(-5), body: #"[1, 1], {}"#)
        try await send("tasks.boom", id: "boom", body: "[], {}")
        try await send("tasks.add", id: "chord", embed: #"{"chord": {"task": "tasks.sum"}}"#, body: "[1, 2], {}")
        try await send("celery.chord_unlock", id: "unlock", body: #"["g-1", {"task": "tasks.sum", "args": [], "kwargs": {}, "options": {}}], {"interval": null, "max_retries": null, "result": [[["h-1", null], null]]}"#)

        let ran = await log.wait(timeout: 20) { e in e.contains { $0.id == "countdown" } && e.filter { $0.id == "boom" }.count == 2 }
        XCTAssertTrue(ran)
        let (now, countdown, countdownAt) = (await log.note("now"), await log.note("countdown"), await log.ranAt("countdown"))
        XCTAssertEqual(now, "5")
        XCTAssertEqual(countdown, "30")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(countdownAt).timeIntervalSince(eta), -0.003, "eta honoured (not run before it)")
        let (boom, refusedRan) = (await log.attempts("boom"), await log.ranAny(["expired", "chord"]))
        XCTAssertEqual(boom, [1, 2], "retries counted")
        XCTAssertFalse(refusedRan)

        let dlq = WireFormat.deadLetterQueue(for: q.name)
        var dead: [String: AMQPDelivery] = [:]
        try await eventually(timeout: 15) {
            // Celery sets no message_id: a message refused before decoding keeps only its `id` header.
            for d in try await drain(dlq, on: ch) { dead[d.properties.messageID ?? d.properties.headers?["id"]?.stringValue ?? "?"] = d }
            return dead.count >= 4
        }
        XCTAssertEqual(Set(dead.keys), ["expired", "boom", "chord", "unlock"])
        func header(_ id: String, _ name: String) -> String? { dead[id]?.properties.headers?[name]?.stringValue }
        XCTAssertEqual(header("boom", WireFormat.Header.deadReason), DeadLetterReason.exhausted.rawValue)
        XCTAssertEqual(header("boom", WireFormat.Header.errorMessage), "boom on attempt 2")
        XCTAssertEqual(header("boom", WireFormat.Header.errorType), "JobFailure")
        XCTAssertEqual(dead["boom"]?.properties.headers?[WireFormat.Header.errors]?.arrayValue?.count, 2)
        XCTAssertEqual(header("boom", "task"), "tasks.boom", "the Celery headers travel with the dead letter")
        XCTAssertEqual(header("expired", WireFormat.Header.deadReason), DeadLetterReason.expired.rawValue)
        XCTAssertEqual(header("unlock", WireFormat.Header.deadReason), DeadLetterReason.nonRetryable.rawValue)
        XCTAssertTrue(header("unlock", WireFormat.Header.errorMessage)?.contains("Celery chord g-1 (celery.chord_unlock) needs a job store: set WARREN_STORE") == true,
                      header("unlock", WireFormat.Header.errorMessage) ?? "-")
        XCTAssertEqual(header("chord", WireFormat.Header.deadReason), DeadLetterReason.nonRetryable.rawValue)
        XCTAssertTrue(header("chord", WireFormat.Header.errorMessage)?.contains("a header task of a chord, needs a job store: set WARREN_STORE") == true,
                      header("chord", WireFormat.Header.errorMessage) ?? "-")

        try await running.stop()
        await ch.close()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    /// A time as Python's `datetime.isoformat()` writes it for an aware UTC datetime (microseconds, `+00:00`).
    static func pythonISO(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date).replacingOccurrences(of: "Z", with: "000+00:00")
    }
}
