import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import ServiceLifecycle
import Warren
import WarrenAMQP
import WarrenMetrics
import XCTest

final class MetricsTests: XCTestCase {
    /// A worker with the metrics observer and server in-process: after known jobs, every counter on `/metrics`
    /// has moved by exactly what happened (succeeded, failed, retried, dead-lettered, rejected, durations), the
    /// sampler sees the dead-letter queue, and `/healthz`, `/readyz` answer 200 while the worker consumes.
    func testScrapedCountersMoveByExactAmounts() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("metrics"))
        let topology = Topology(queues: [q])
        try await declare(topology, on: conn)
        let dead = WireFormat.deadLetterQueue(for: q.name)

        var registry = JobRegistry()
        let fast = RetryPolicy(maxAttempts: 3, backoff: Backoff(base: .milliseconds(50), cap: .milliseconds(100), jitter: 0))
        registry.register(TestFlaky.self, retry: fast) { args, ctx in
            if ctx.attempt <= args.failures { throw JobFailure.retryable("planned failure \(ctx.attempt)") }
        }
        registry.register(TestPermanent.self, retry: fast) { _, _ in throw JobFailure.permanent("cannot ever work") }
        var config = WorkerConfiguration()
        config.queues = [q.name]
        config.declareTopology = false

        let ops = Operations(host: "127.0.0.1", port: 0, connection: conn,
                             sampledQueues: topology.queueNames(delayLevels: false),
                             sampleInterval: .milliseconds(200), metrics: WarrenMetrics(), logger: quietLogger("test.metrics"))
        let worker = Worker(connection: conn, registry: registry, topology: topology, configuration: config,
                            observer: ops.observer, logger: quietLogger("test.worker"))
        let group = ServiceGroup(configuration: .init(services: ops.services(around: worker, name: "worker").map { .init(service: $0) },
                                                      logger: quietLogger("test.group")))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        let bound = await ops.server.boundPort()
        let port = try XCTUnwrap(bound, "metrics server did not bind")
        let scraper = MetricsScraper(port: port)

        try await eventually { try await scraper.get("/readyz").status == 200 }
        let health = try await scraper.get("/healthz")
        XCTAssertEqual(health.status, 200)
        let missing = try await scraper.get("/nope")
        XCTAssertEqual(missing.status, 404)

        let producer = try await JobProducer(connection: conn, topology: topology)
        let on = EnqueueOptions(queue: q.name)
        for _ in 0..<5 { try await producer.enqueue(TestFlaky(failures: 0), options: on) }  // 5 succeed at once
        for _ in 0..<3 { try await producer.enqueue(TestFlaky(failures: 1), options: on) }  // fail, retry, succeed
        for _ in 0..<2 { try await producer.enqueue(TestPermanent(), options: on) }         // fail, dead-lettered
        try await producer.enqueue(name: "metrics-unregistered", arguments: Array("{}".utf8), options: on)  // rejected

        let flaky = ["job": TestFlaky.jobName, "queue": q.name]
        let permanent = ["job": TestPermanent.jobName, "queue": q.name]
        try await eventually(timeout: 30) {
            let m = try await scraper.metrics()
            return m.value(MetricName.jobsSucceeded, flaky) == 8 && m.value(MetricName.jobsDeadLettered, permanent) == 2
                && m.value(MetricName.messagesRejected, ["queue": q.name, "reason": "unknown-job"]) == 1
                && m.value(MetricName.queueMessages, ["queue": dead]) == 3
        }
        let m = try await scraper.metrics()
        XCTAssertEqual(m.value(MetricName.jobsStarted, flaky), 11, "5 + 3 x 2 attempts")
        XCTAssertEqual(m.value(MetricName.jobsFailed, flaky), 3)
        XCTAssertEqual(m.value(MetricName.jobsRetried, flaky), 3)
        XCTAssertEqual(m.value(MetricName.jobsDeadLettered, flaky), 0)
        XCTAssertEqual(m.value(MetricName.jobsStarted, permanent), 2)
        XCTAssertEqual(m.value(MetricName.jobsFailed, permanent), 2)
        XCTAssertEqual(m.value(MetricName.jobsSucceeded, permanent), 0)
        XCTAssertEqual(m.value(MetricName.jobsRetried, permanent), 0)
        XCTAssertEqual(m.value(MetricName.jobDuration + "_count", flaky), 11)
        XCTAssertEqual(m.value(MetricName.jobDuration + "_bucket", flaky.merging(["le": "+Inf"]) { a, _ in a }), 11)
        XCTAssertEqual(m.value(MetricName.jobsInFlight, flaky), 0)
        XCTAssertEqual(m.value(MetricName.jobsInFlight, permanent), 0)
        XCTAssertEqual(m.value(MetricName.connectionUp, ["connection": conn.configuration.connectionName]), 1)
        XCTAssertEqual(m.value(MetricName.reconnects, ["connection": conn.configuration.connectionName]), 0)
        try await eventually {
            let s = try await scraper.metrics()
            return s.value(MetricName.queueConsumers, ["queue": q.name]) == 1 && s.value(MetricName.queueMessages, ["queue": q.name]) == 0
        }

        // Publish confirm latency: the worker's own retries (3) and dead letters (2 + 1 unknown) are timed,
        // and one measured enqueue adds exactly one observation.
        let confirm = ["queue": q.name, "result": "ok"]
        let before = try await scraper.metrics().value(MetricName.publishConfirm + "_count", confirm)
        XCTAssertEqual(before, 6)
        try await ops.publishTiming.measure(queue: q.name) { try await producer.enqueue(TestFlaky(failures: 0), options: on) }
        let afterPublish = try await scraper.metrics()
        XCTAssertEqual(afterPublish.value(MetricName.publishConfirm + "_count", confirm), (before ?? 0) + 1)

        await group.triggerGracefulShutdown()
        try await running.value
        XCTAssertEqual(Set(ops.readiness.failing()), ["consuming", "worker"], "a stopped worker is not ready")
        await producer.channel.close()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    /// `/readyz` follows the readiness checks both ways, naming what fails; `/healthz` stays 200.
    func testReadyzFollowsChecks() async throws {
        let readiness = Readiness()
        let consuming = Flag()
        readiness.require("consuming") { consuming.value }
        let server = MetricsServer(host: "127.0.0.1", port: 0, metrics: WarrenMetrics(), readiness: readiness,
                                   logger: quietLogger("test.metrics"))
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: quietLogger("test.group")))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        let bound = await server.boundPort()
        let scraper = MetricsScraper(port: try XCTUnwrap(bound))

        let unready = try await scraper.get("/readyz")
        XCTAssertEqual(unready.status, 503)
        XCTAssertEqual(unready.body, "not ready: consuming\n")
        let health = try await scraper.get("/healthz")
        XCTAssertEqual(health.status, 200)
        consuming.set(true)
        let ready = try await scraper.get("/readyz")
        XCTAssertEqual(ready.status, 200)
        consuming.set(false)
        let unreadyAgain = try await scraper.get("/readyz")
        XCTAssertEqual(unreadyAgain.status, 503)
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
