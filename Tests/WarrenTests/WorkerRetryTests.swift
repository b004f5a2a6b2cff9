import Foundation
import Warren
import WarrenAMQP
import XCTest

struct TestFlaky: JobParameters {
    static let jobName = "test-flaky"
    var failures: Int
}

struct TestPermanent: JobParameters {
    static let jobName = "test-permanent"
}

struct TestSleep: JobParameters {
    static let jobName = "test-sleep"
    var ms: Int
}

final class WorkerRetryTests: XCTestCase {
    func testRetriesCarryAttemptAndErrorContextThenDeadLetterWhenExhausted() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("retry"))
        let topology = Topology(queues: [q])
        let log = JobLog()
        var registry = JobRegistry()
        let fast = Backoff(base: .milliseconds(50), cap: .milliseconds(100), jitter: 0)
        registry.register(TestFlaky.self, retry: RetryPolicy(maxAttempts: 3, backoff: fast)) { args, ctx in
            await log.add("flaky", ctx, note: "\(args.failures)")
            if ctx.attempt <= args.failures { throw JobFailure.retryable("planned failure \(ctx.attempt)") }
        }
        registry.register(TestPermanent.self, retry: RetryPolicy(maxAttempts: 5, backoff: fast)) { _, ctx in
            await log.add("permanent", ctx)
            throw JobFailure.permanent("cannot ever work")
        }
        let (running, producer) = try await startWorker(conn, topology, registry) { config in
            config.hostname = "test-host"
        }

        let recovers = try await producer.enqueue(TestFlaky(failures: 2), options: .init(queue: q.name))
        let dies = try await producer.enqueue(TestFlaky(failures: 5), options: .init(queue: q.name))
        let permanent = try await producer.enqueue(TestPermanent(), options: .init(queue: q.name))

        let done = await log.wait { e in
            e.filter { $0.id == recovers }.count == 3 && e.filter { $0.id == dies }.count == 3 && e.contains { $0.id == permanent }
        }
        XCTAssertTrue(done)
        let entries = await log.entries
        XCTAssertEqual(entries.filter { $0.id == recovers }.map(\.attempt), [1, 2, 3])
        XCTAssertEqual(entries.filter { $0.id == dies }.map(\.attempt), [1, 2, 3])
        XCTAssertEqual(entries.filter { $0.id == permanent }.map(\.attempt), [1], "non-retryable must not be retried")

        let ch = try await conn.openChannel()
        let dlq = WireFormat.deadLetterQueue(for: q.name)
        try await eventually { try await ch.inspectQueue(dlq).messageCount == 2 }
        let dead = try await drain(dlq, on: ch)
        let byID = Dictionary(uniqueKeysWithValues: try dead.map { d in
            (d.properties.messageID ?? "", try JobEnvelope(properties: d.properties, body: d.body))
        })
        let exhausted = try XCTUnwrap(byID[dies])
        XCTAssertEqual(exhausted.deadReason, .exhausted)
        XCTAssertEqual(exhausted.attempt, 3)
        XCTAssertEqual(exhausted.name, TestFlaky.jobName)
        XCTAssertEqual(exhausted.queue, q.name)
        XCTAssertEqual(exhausted.body, Array(#"{"failures":5}"#.utf8), "body kept byte for byte")
        let failure = try XCTUnwrap(exhausted.failure)
        XCTAssertEqual(failure.errorType, "JobFailure")
        XCTAssertEqual(failure.errorMessage, "planned failure 3")
        XCTAssertEqual(failure.host, "test-host")
        XCTAssertEqual(failure.history.map(\.attempt), [1, 2, 3])
        XCTAssertEqual(failure.history.map(\.message), ["planned failure 1", "planned failure 2", "planned failure 3"])
        XCTAssertLessThanOrEqual(try XCTUnwrap(failure.firstFailedAt), try XCTUnwrap(failure.lastFailedAt))
        XCTAssertNil(exhausted.headers["x-death"], "delay-hop bookkeeping is stripped")

        let nonRetryable = try XCTUnwrap(byID[permanent])
        XCTAssertEqual(nonRetryable.deadReason, .nonRetryable)
        XCTAssertEqual(nonRetryable.failure?.errorType, "JobFailure.permanent")
        XCTAssertEqual(nonRetryable.failure?.history.count, 1)
        let observed1 = try await ch.inspectQueue(q.name).messageCount
        XCTAssertEqual(observed1, 0)

        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    func testTimeoutCountsAsFailureAndDoesNotHoldTheSlot() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("timeout"))
        let topology = Topology(queues: [q])
        let log = JobLog()
        var registry = JobRegistry()
        // Ignores cancellation entirely: waits 3 s on a plain dispatch timer.
        registry.register(TestSleep.self, retry: .never, timeout: .milliseconds(300)) { args, ctx in
            await log.add("start", ctx)
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(args.ms)) { c.resume() }
            }
            await log.add("stubborn-finished", ctx)
        }
        registry.register(TestPermanent.self) { _, ctx in await log.add("next", ctx) }
        let (running, producer) = try await startWorker(conn, topology, registry) { config in
            config.concurrency = 1
        }
        try await producer.enqueue(TestSleep(ms: 3000), options: .init(queue: q.name))
        try await producer.enqueue(TestPermanent(), options: .init(queue: q.name))
        // With one slot, "next" can only run if the timed-out job released it.
        let ranNext = await log.wait(timeout: 2.5) { e in e.contains { $0.name == "next" } }
        XCTAssertTrue(ranNext, "the slot of a job that ignores cancellation was leaked")
        let stubbornDone = await log.entries.contains { $0.name == "stubborn-finished" }
        XCTAssertFalse(stubbornDone, "next ran only after the stubborn job ended: timeout did not free the slot")
        let ch = try await conn.openChannel()
        let dlq = WireFormat.deadLetterQueue(for: q.name)
        try await eventually { try await ch.inspectQueue(dlq).messageCount == 1 }
        let dead = try JobEnvelope(properties: try await drain(dlq, on: ch)[0].properties, body: [])
        XCTAssertEqual(dead.deadReason, .exhausted)
        XCTAssertEqual(dead.failure?.errorType, "timeout")
        XCTAssertTrue(dead.failure?.errorMessage.contains("time limit") ?? false)
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    func testGracefulShutdownFinishesInFlightAndLeavesTheRest() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("shutdown"))
        let topology = Topology(queues: [q])
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(TestSleep.self) { args, ctx in
            await log.add("start", ctx)
            try await Task.sleep(for: .milliseconds(args.ms))
            await log.add("end", ctx)
        }
        let (running, producer) = try await startWorker(conn, topology, registry) { config in
            config.concurrency = 2
            config.shutdownGracePeriod = .seconds(5)
        }
        for _ in 0..<6 { try await producer.enqueue(TestSleep(ms: 1000), options: .init(queue: q.name)) }
        let twoStarted = await log.wait { $0.filter { $0.name == "start" }.count == 2 }
        XCTAssertTrue(twoStarted)
        try await running.stop()  // returns only after in-flight jobs ended
        let entries = await log.entries
        XCTAssertEqual(entries.filter { $0.name == "start" }.count, 2, "no new job may start after shutdown began")
        XCTAssertEqual(entries.filter { $0.name == "end" }.count, 2, "in-flight jobs finish within the grace period")
        let ch = try await conn.openChannel()
        try await eventually { try await ch.inspectQueue(q.name).messageCount == 4 }  // the rest, unacked -> requeued

        // Grace period shorter than the job: it is cancelled and left for redelivery, not lost.
        let log2 = JobLog()
        var registry2 = JobRegistry()
        registry2.register(TestSleep.self) { args, ctx in
            await log2.add("start", ctx)
            try await Task.sleep(for: .milliseconds(args.ms * 5))
            await log2.add("end", ctx)
        }
        let (second, _) = try await startWorker(conn, topology, registry2) { config in
            config.concurrency = 2
            config.shutdownGracePeriod = .milliseconds(200)
        }
        let started = await log2.wait { $0.count >= 2 }
        XCTAssertTrue(started)
        try await second.stop()
        let ended = await log2.entries.filter { $0.name == "end" }.count
        XCTAssertEqual(ended, 0)
        try await eventually { try await ch.inspectQueue(q.name).messageCount == 4 }
        let left = try await drain(q.name, on: ch)
        XCTAssertEqual(left.count, 4)
        XCTAssertEqual(left.filter(\.redelivered).count, 2, "the two cancelled jobs come back as redeliveries")
        XCTAssertTrue(try left.allSatisfy { try JobEnvelope(properties: $0.properties, body: $0.body).attempt == 1 },
                      "a job cut short by shutdown is not a failed attempt")
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }
}
