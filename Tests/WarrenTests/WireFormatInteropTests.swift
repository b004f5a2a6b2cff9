import Foundation
import Warren
import WarrenAMQP
import XCTest

private struct InteropGreet: JobParameters {
    static let jobName = "interop-greet"
    var name: String
    var times: Int
}

private struct InteropFollow: JobParameters {
    static let jobName = "interop-follow"
    var from: String
}

/// Messages built by hand as a producer in another language writes them (docs/wire-format.md), run by a
/// real worker: string-only headers as `amqp-publish` sends them, a delay through `warren.delay` with a
/// routing key computed by hand, ISO-8601 times, priority, and a trace context carried into follow-ups.
final class WireFormatInteropTests: XCTestCase {
    func testHandBuiltMessagesRunWithTheirArgumentsAndTrace() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("interop"), maxPriority: 10)
        let topology = Topology(queues: [q])
        try await declare(topology, on: conn)
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(InteropGreet.self) { args, ctx in
            await log.add("greet", ctx, note: "\(args.name)x\(args.times) \(ctx.traceparent ?? "-") max=\(ctx.maxAttempts)")
            if args.name == "parent" { try await ctx.enqueue(InteropFollow(from: ctx.jobID), options: EnqueueOptions(queue: q.name)) }
        }
        registry.register(InteropFollow.self) { args, ctx in await log.add("follow", ctx, note: "\(args.from) \(ctx.traceparent ?? "-")") }
        var config = WorkerConfiguration()
        config.queues = [q.name]
        let running = RunningWorker.start(Worker(connection: conn, registry: registry, topology: topology,
                                                 configuration: config, logger: quietLogger("interop")))
        let ch = try await conn.openChannel(confirmWindow: 10)

        let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        func publish(_ id: String, exchange: String = WireFormat.workExchange, routingKey: String? = nil,
                     headers: FieldTable, priority: UInt8? = nil, body: String) async throws {
            var h: FieldTable = ["warren-job": "interop-greet", "warren-version": "1", "warren-attempt": "1"]
            h.merge(headers) { $1 }
            let message = OutgoingMessage(exchange: exchange, routingKey: routingKey ?? q.name, mandatory: true,
                                          properties: BasicProperties(contentType: "application/json", headers: h, persistent: true,
                                                                      priority: priority, messageID: id),
                                          body: Array(body.utf8))
            let outcome = try await ch.publish(message)
            XCTAssertEqual(outcome, .acked, id)
        }
        // Delay by hand: 32 binary digits of 1500 ms, dot-separated, then the queue.
        let digits = (0..<32).reversed().map { (1500 >> $0) & 1 == 1 ? "1" : "0" }.joined(separator: ".")
        let started = Date()
        try await publish("delayed", exchange: "warren.delay", routingKey: "\(digits).\(q.name)", headers: [:],
                          body: #"{"name":"delayed","times":1}"#)
        let isoFormatter = ISO8601DateFormatter()
        isoFormatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let runAt = Date().addingTimeInterval(1.2)
        let iso = isoFormatter.string(from: runAt)
        try await publish("run-at-iso", headers: ["warren-run-at": .string(iso)], body: #"{"name":"runat","times":2}"#)
        try await publish("parent", headers: ["traceparent": .string(trace), "warren-max-attempts": "7"], priority: 9,
                          body: #"{"name":"parent","times":3}"#)

        let done = await log.wait(timeout: 20) { e in ["delayed", "run-at-iso", "parent"].allSatisfy { id in e.contains { $0.id == id } }
            && e.contains { $0.name == "follow" } }
        XCTAssertTrue(done, "all hand-built jobs ran")
        let entries = await log.entries
        func note(_ id: String) -> String? { entries.first { $0.id == id }?.note }
        XCTAssertEqual(note("parent"), "parentx3 \(trace) max=7")
        XCTAssertEqual(note("delayed"), "delayedx1 - max=\(RetryPolicy.default.maxAttempts)")
        XCTAssertEqual(note("run-at-iso"), "runatx2 - max=\(RetryPolicy.default.maxAttempts)")
        let follow = try XCTUnwrap(entries.first { $0.name == "follow" })
        XCTAssertEqual(follow.note, "parent \(trace)", "the follow-up job carries the producer's trace context")
        for (id, notBefore) in [("delayed", started.addingTimeInterval(1.5)), ("run-at-iso", runAt)] {
            let ranAt = try XCTUnwrap(entries.first { $0.id == id }?.at)
            XCTAssertGreaterThanOrEqual(ranAt.timeIntervalSince(notBefore), -0.003, "\(id) ran before its time")
        }
        try await running.stop()
        await ch.close()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }
}
