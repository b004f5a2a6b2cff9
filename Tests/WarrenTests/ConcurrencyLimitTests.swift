import Foundation
import Synchronization
import Warren
import WarrenAMQP
import XCTest

struct TestGauged: JobParameters {
    static let jobName = "test-gauged"
    var ms: Int
}

/// How many handlers of each job run at once, and the most seen.
final class Gauge: Sendable {
    private let state = Mutex<(now: [String: Int], most: [String: Int], done: [String: Int])>(([:], [:], [:]))

    func enter(_ job: String) {
        state.withLock { s in
            s.now[job, default: 0] += 1
            s.most[job] = max(s.most[job] ?? 0, s.now[job]!)
        }
    }

    func leave(_ job: String) { state.withLock { s in s.now[job]! -= 1; s.done[job, default: 0] += 1 } }
    func most(_ job: String) -> Int { state.withLock { $0.most[job] ?? 0 } }
    func done(_ job: String) -> Int { state.withLock { $0.done[job] ?? 0 } }
}

/// `maxConcurrent` of a registered job, against the real broker: never more attempts at once than the limit
/// while other jobs use the rest of the worker's concurrency, and at shutdown the jobs waiting for a place
/// are left to the broker, not run and not lost.
final class ConcurrencyLimitTests: XCTestCase {
    func testLimitedJobNeverRunsMoreAtOnceWhileOthersUseTheRest() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("limit"))
        let topology = Topology(queues: [q])
        let gauge = Gauge()
        var registry = JobRegistry()
        registry.register(TestGauged.self, maxConcurrent: 2) { args, _ in
            gauge.enter("limited")
            try await Task.sleep(for: .milliseconds(args.ms))
            gauge.leave("limited")
        }
        registry.register(TestSleep.self) { args, _ in
            gauge.enter("free")
            try await Task.sleep(for: .milliseconds(args.ms))
            gauge.leave("free")
        }
        XCTAssertEqual(registry[TestGauged.jobName]?.maxConcurrent, 2)
        let (running, producer) = try await startWorker(conn, topology, registry) { $0.concurrency = 8 }

        var requests: [JobRequest] = []
        for _ in 0..<12 {
            requests.append(try JobRequest(TestGauged(ms: 60), options: .init(queue: q.name)))
            requests.append(try JobRequest(TestSleep(ms: 60), options: .init(queue: q.name)))
        }
        for result in await producer.enqueue(batch: requests) { _ = try result.get() }
        try await eventually(timeout: 30) { gauge.done("limited") == 12 && gauge.done("free") == 12 }
        XCTAssertEqual(gauge.most("limited"), 2, "the limited job ran more than 2 at once, or never 2")
        XCTAssertGreaterThan(gauge.most("free"), 2, "the worker never ran more than 2 jobs at once: the limit was not tested")

        try await running.stop()
        await producer.channel.close()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    func testJobsWaitingForAPlaceAreLeftToTheBrokerAtShutdown() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("limit-stop"))
        let topology = Topology(queues: [q])
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(TestGauged.self, maxConcurrent: 1) { args, ctx in
            await log.add("start", ctx)
            try await Task.sleep(for: .milliseconds(args.ms))
            await log.add("end", ctx)
        }
        let (running, producer) = try await startWorker(conn, topology, registry) { config in
            config.concurrency = 4
            config.shutdownGracePeriod = .seconds(10)
        }
        for _ in 0..<5 { try await producer.enqueue(TestGauged(ms: 500), options: .init(queue: q.name)) }
        let oneStarted = await log.wait { $0.contains { $0.name == "start" } }
        XCTAssertTrue(oneStarted)
        try await running.stop()  // the running one finishes; the three waiting for its place must not start

        let entries = await log.entries
        XCTAssertEqual(entries.filter { $0.name == "start" }.count, 1, "a job waiting for a place started after shutdown began")
        XCTAssertEqual(entries.filter { $0.name == "end" }.count, 1)
        let ch = try await conn.openChannel()
        try await eventually { try await ch.inspectQueue(q.name).messageCount == 4 }
        let dead = try await ch.inspectQueue(WireFormat.deadLetterQueue(for: q.name)).messageCount
        XCTAssertEqual(dead, 0)

        await ch.close()
        await producer.channel.close()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }
}
