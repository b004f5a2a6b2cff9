import Foundation
import Warren
import WarrenAMQP
import XCTest

/// Runners on a real broker: after short jobs (the buffer then leaves small bursts to a busy runner), short
/// jobs queued behind ones that block still run while they block, on the runners left: the worker never
/// makes them wait for a busy runner.
final class RunnerWakeTests: XCTestCase {
    func testShortJobsBehindABlockedOneRunWhileItBlocks() async throws {
        let connection = try await JobsBroker.connect()
        let queue = Topology.Queue(JobsBroker.uniqueQueue("wake"))
        let topology = Topology(queues: [queue])
        try await declare(topology, on: connection)
        let gate = Gate()
        let log = JobLog()
        let registry = JobLog.quickAndBlockingJobs(log: log, gate: gate)
        var config = WorkerConfiguration()
        config.queues = [queue.name]
        config.concurrency = 4
        config.declareTopology = false
        let worker = RunningWorker.start(Worker(connection: connection, registry: registry, topology: topology,
                                                configuration: config, logger: quietLogger("wake")))
        let producer = try await JobProducer(connection: connection, topology: topology)
        let request = { (name: String) in JobRequest(name: name, arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue.name)) }
        _ = await producer.enqueue(batch: (0..<300).map { _ in request("quick") })
        let warmedUp = await log.wait(timeout: 60) { $0.count == 300 }
        XCTAssertTrue(warmedUp, "the first quick jobs ran")
        // One that blocks, then short ones: they arrive in a burst behind it. Three times, leaving one runner.
        for _ in 0..<3 {
            _ = await producer.enqueue(batch: [request("block")] + (0..<20).map { _ in request("quick") })
        }
        let quickRan = await log.wait(timeout: 20) { $0.filter { $0.name == "quick" }.count == 360 }
        let blocked = await log.count("block")
        XCTAssertTrue(quickRan, "the short jobs behind the blocked ones ran")
        XCTAssertEqual(blocked, 0, "while those still blocked")
        gate.open()
        let allRan = await log.wait(timeout: 30) { $0.count == 363 }
        XCTAssertTrue(allRan)
        try await worker.stop()
        await producer.channel.close()
        await JobsBroker.cleanUp(queue, on: connection)
        await connection.close()
    }
}
