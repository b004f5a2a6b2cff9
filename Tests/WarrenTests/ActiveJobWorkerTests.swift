import Foundation
import Warren
import WarrenAMQP
import XCTest

private struct Report: JobParameters {
    static let jobName = "report"
    var file: String
    var label: String
}

private struct Flaky: JobParameters {
    static let jobName = "flaky"
}

private struct CeleryAdd: JobParameters {
    static let jobName = "tasks.add"
    var x: Int
    var y: Int
}

/// ActiveJob messages published exactly as the Sneakers adapter publishes them (a durable direct exchange,
/// routing key = queue name, bunny's default properties, no message_id), run by a real worker; and a Celery task
/// the broker expired, listed and requeued from its dead-letter queue.
final class ActiveJobWorkerTests: XCTestCase {
    private func payload(_ job: String, id: String, arguments: String, executions: Int = 0, extra: String = "") -> [UInt8] {
        Array(#"{"job_class":"\#(job)","job_id":"\#(id)","provider_job_id":null,"queue_name":"q","priority":null,"arguments":\#(arguments),"executions":\#(executions),"exception_executions":{},"locale":"en","timezone":"UTC","enqueued_at":"2026-11-30T16:45:50Z"\#(extra)}"#.utf8)
    }

    func testRailsJobsRunThroughTheSneakersExchange() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("activejob"))
        let exchange = "sneakers.\(q.name)"
        addTeardownBlock {  // also when the test fails midway
            if let ch = try? await conn.openChannel() {
                try? await ch.deleteExchange(exchange)
                await ch.close()
            }
            await JobsBroker.cleanUp(q, on: conn)
            await conn.close()
        }
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(Report.self, positionalArguments: ["file"]) { args, ctx in
            await log.add("report", ctx, note: "\(args.file) \(args.label)")
        }
        registry.register(Flaky.self, retry: RetryPolicy(maxAttempts: 5, backoff: .init(base: .milliseconds(50), cap: .milliseconds(100), jitter: 0))) { _, ctx in
            await log.add("flaky", ctx)
            if ctx.attempt == 2 { throw JobFailure.retryable("fails on attempt 2") }
        }
        var config = WorkerConfiguration()
        config.queues = [q.name]
        config.foreignFormats = [.activeJob(ActiveJobFormat(exchange: exchange))]
        let running = RunningWorker.start(Worker(connection: conn, registry: registry, topology: Topology(queues: [q]),
                                                 configuration: config, logger: quietLogger("activejob")))
        let ch = try await conn.openChannel(confirmWindow: 10)
        let probe = try await conn.openChannel()
        try await eventually {  // the worker binds the queue before it consumes
            let info = try await probe.unlessRefused(404) { () async throws(AMQPError) in try await probe.inspectQueue(q.name) }
            return (info?.consumerCount ?? 0) > 0
        }
        await probe.close()

        func publish(_ body: [UInt8]) async throws {
            // The Sneakers adapter's message; mandatory here only so that a missing binding fails the test.
            let message = OutgoingMessage(exchange: exchange, routingKey: q.name, mandatory: true,
                                          properties: BasicProperties(contentType: "application/octet-stream", persistent: true, priority: 0),
                                          body: body)
            let outcome = try await ch.publish(message)
            XCTAssertEqual(outcome, .acked, "routed by the worker's binding of the queue to \(exchange)")
        }
        let at = Date().addingTimeInterval(1.5)
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        try await publish(payload("ReportJob", id: "aj-now", arguments: #"["/tmp/a",{"label":"now","_aj_ruby2_keywords":["label"]}]"#))
        try await publish(payload("ReportJob", id: "aj-later", arguments: #"["/tmp/b",{"label":"later","_aj_ruby2_keywords":["label"]}]"#,
                                  extra: #","scheduled_at":"\#(iso.string(from: at))""#))
        try await publish(payload("FlakyJob", id: "aj-flaky", arguments: "[]", executions: 1))
        try await publish(payload("ImageJob", id: "aj-unknown", arguments: "[1]"))
        try await publish(payload("ReportJob", id: "aj-range", arguments: #"[{"_aj_serialized":"ActiveJob::Serializers::RangeSerializer","begin":1,"end":2,"exclude_end":false}]"#))

        let ran = await log.wait(timeout: 20) { e in e.contains { $0.id == "aj-later" } && e.filter { $0.id == "aj-flaky" }.count == 2 }
        XCTAssertTrue(ran)
        let (now, later, laterAt) = (await log.note("aj-now"), await log.note("aj-later"), await log.ranAt("aj-later"))
        XCTAssertEqual(now, "/tmp/a now")
        XCTAssertEqual(later, "/tmp/b later")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(laterAt).timeIntervalSince(at), -0.003, "scheduled_at honoured (not run before it)")
        let (flaky, refusedRan) = (await log.attempts("aj-flaky"), await log.ranAny(["aj-unknown", "aj-range"]))
        XCTAssertEqual(flaky, [2, 3], "executions 1 -> attempt 2, then a Warren retry")
        XCTAssertFalse(refusedRan)

        let dlq = WireFormat.deadLetterQueue(for: q.name)
        var dead: [String: DeadLetter] = [:]
        try await eventually(timeout: 15) {
            for letter in try await DeadLetterBrowser(connection: conn).list(queue: dlq) { dead[letter.id] = letter }
            return dead.count >= 2
        }
        XCTAssertEqual(Set(dead.keys), ["aj-unknown", "aj-range"], "listed by job_id although they have no message_id")
        XCTAssertEqual(dead["aj-unknown"]?.job, "ImageJob")
        XCTAssertEqual(dead["aj-unknown"]?.reason, DeadLetterReason.unknownJob.rawValue)
        XCTAssertTrue(dead["aj-unknown"]?.errorMessage?.contains("register one named 'ImageJob' or 'image'") == true)
        XCTAssertEqual(dead["aj-unknown"]?.body, payload("ImageJob", id: "aj-unknown", arguments: "[1]"), "the Rails payload is kept as sent")
        XCTAssertNil(dead["aj-unknown"]?.properties.messageID)
        XCTAssertEqual(dead["aj-range"]?.reason, DeadLetterReason.unsupported.rawValue)
        XCTAssertTrue(dead["aj-range"]?.errorMessage?.contains("is a Range") == true)

        try await running.stop()
        await ch.close()
    }

    func testBrokerExpiredCeleryTaskIsListedAndRunsOnceRequeued() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("celery-expired"))
        let topology = Topology(queues: [q])
        addTeardownBlock {
            await JobsBroker.cleanUp(q, on: conn)
            await conn.close()
        }
        try await declare(topology, on: conn)
        let ch = try await conn.openChannel(confirmWindow: 10)
        // Celery turns `expires` into the AMQP expiration: with no worker consuming, the broker dead-letters it.
        let expires = CeleryWorkerTests.pythonISO(Date().addingTimeInterval(0.001))
        let headers: FieldTable = ["lang": "py", "task": "tasks.add", "id": "c-expired", "retries": .int32(0), "eta": .void,
                                   "expires": .string(expires), "root_id": "c-expired"]
        let sent = try await ch.publish(OutgoingMessage(
            exchange: "", routingKey: q.name, mandatory: true,
            properties: BasicProperties(contentType: "application/json", contentEncoding: "utf-8", headers: headers, persistent: true,
                                        correlationID: "c-expired", expiration: "1"),
            body: Array(#"[[2, 3], {}, {}]"#.utf8)))
        XCTAssertEqual(sent, .acked)
        let dlq = WireFormat.deadLetterQueue(for: q.name)
        var letters: [DeadLetter] = []
        try await eventually {
            letters = try await DeadLetterBrowser(connection: conn).list(queue: dlq)
            return !letters.isEmpty
        }
        let letter = try XCTUnwrap(letters.first)
        XCTAssertEqual(letter.id, "c-expired")
        XCTAssertEqual(letter.job, "tasks.add")
        XCTAssertEqual(letter.reason, "expired (broker)")
        XCTAssertEqual(letter.brokerDeath?.queue, q.name)
        let failedAt = try XCTUnwrap(letter.failedAt)
        XCTAssertLessThan(abs(failedAt.timeIntervalSinceNow), 60)

        let log = JobLog()
        var registry = JobRegistry()
        registry.register(CeleryAdd.self, positionalArguments: ["x", "y"]) { args, ctx in await log.add("add", ctx, note: "\(args.x + args.y)") }
        var config = WorkerConfiguration()
        config.queues = [q.name]
        config.foreignFormats = [.celery]
        let running = RunningWorker.start(Worker(connection: conn, registry: registry, topology: topology, configuration: config,
                                                 logger: quietLogger("celery-expired")))
        let report = try await DeadLetterMover(connection: conn).requeue(queue: dlq, filter: DeadLetterFilter(reasons: ["expired"]))
        XCTAssertEqual(report.done, 1)
        let ran = await log.wait { $0.contains { $0.id == "c-expired" } }
        XCTAssertTrue(ran, "requeued without its expiry, the task runs")
        let entries = await log.entries
        XCTAssertEqual(entries.map(\.note), ["5"])
        try await running.stop()
        let left = try await DeadLetterBrowser(connection: conn).list(queue: dlq)
        XCTAssertEqual(left.count, 0, "not dead-lettered again as expired")
        await ch.close()
    }
}
