import Foundation
import Synchronization
import Warren
import WarrenAMQP
import XCTest

/// The adaptive prefetch on a real broker: a worker that has run short jobs holds more unacked deliveries
/// than its concurrency (the prefetch really changed on the broker), and every job still runs exactly once
/// across the consumer restart.
final class AdaptivePrefetchWorkerTests: XCTestCase {
    func testShortJobsRaiseThePrefetchTheBrokerApplies() async throws {
        // Jobs of microseconds at concurrency 2: 2 × (1 + 100 ms / run time) is far above the maximum, so the
        // prefetch is 40.
        try await assertPrefetchInForce(40, name: "adaptive") { $0.maximum = 40 }
    }

    /// A middleware whose settlements wait for I/O (as a job store's group commit does): the places of the
    /// deliveries being settled are added to the prefetch, up to `maximumSettling`.
    func testSettlementsThatWaitForIOAddToThePrefetch() async throws {
        // Settling part: 2 runners × 50 ms / run time (microseconds; a loaded machine stretched a 1 ms sleep
        // far enough to bring it under 30) is over its maximum: 30. Prefetch 40 + 30 = 70.
        try await assertPrefetchInForce(70, name: "adaptive-settling", middleware: [SlowCommit()]) {
            $0.maximum = 40
            $0.maximumSettling = 30
        }
    }

    /// A worker of concurrency 2 runs 300 short jobs (the prefetch adapts), then jobs that block fill both
    /// runners and the broker sends up to the prefetch: asserts that `expected` of 100 are held, then that
    /// all 400 ran exactly once across the consumer restart.
    private func assertPrefetchInForce(_ expected: Int, name: String, middleware: [any JobMiddleware] = [],
                                       rule: (inout AdaptivePrefetch) -> Void) async throws {
        let connection = try await JobsBroker.connect()
        let queue = Topology.Queue(JobsBroker.uniqueQueue(name))
        let topology = Topology(queues: [queue])
        try await declare(topology, on: connection)
        let gate = Gate()
        let log = JobLog()
        let registry = JobLog.quickAndBlockingJobs(log: log, gate: gate)
        var config = WorkerConfiguration()
        config.queues = [queue.name]
        config.concurrency = 2
        config.declareTopology = false
        config.adaptivePrefetch.evaluationInterval = .milliseconds(50)
        config.adaptivePrefetch.minimumInterval = .milliseconds(200)
        rule(&config.adaptivePrefetch)
        let worker = RunningWorker.start(Worker(connection: connection, registry: registry, topology: topology,
                                                configuration: config, middleware: middleware, logger: quietLogger(name)))
        let producer = try await JobProducer(connection: connection, topology: topology)
        _ = await producer.enqueue(batch: (0..<300).map { _ in JobRequest(name: "quick", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue.name)) })
        let quickDone = await log.wait(timeout: 60) { $0.count == 300 }
        XCTAssertTrue(quickDone, "the quick jobs ran")
        _ = await producer.enqueue(batch: (0..<100).map { _ in JobRequest(name: "block", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue.name)) })
        let probe = try await connection.openChannel()
        var held = 0
        try await eventually(timeout: 20) {
            held = 100 - Int(try await probe.inspectQueue(queue.name).messageCount)
            return held == expected
        }
        XCTAssertEqual(held, expected, "unacked deliveries held with 2 runners blocked: the prefetch in force")
        gate.open()
        let allDone = await log.wait(timeout: 60) { $0.count == 400 }
        XCTAssertTrue(allDone)
        let entries = await log.entries
        XCTAssertEqual(Set(entries.map(\.id)).count, 400, "every job ran exactly once")
        try await worker.stop()
        await producer.channel.close()
        await probe.close()
        await JobsBroker.cleanUp(queue, on: connection)
        await connection.close()
    }
}

/// Completes every settlement 50 ms later, from another task, as a store's group commit would.
private struct SlowCommit: JobMiddleware {
    var settlementWaitsForIO: Bool { true }

    func willSettle(_ settlement: JobSettlement) async throws {
        try? await Task.sleep(for: .milliseconds(50))
    }

    func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) -> SettlementStart {
        Task.detached {
            try? await Task.sleep(for: .milliseconds(50))
            completion(nil)
        }
        return .started
    }
}
