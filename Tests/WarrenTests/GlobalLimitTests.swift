import Foundation
import Synchronization
import Warren
import WarrenAMQP
import WarrenTestSupport
import XCTest

/// Limits across workers on the real broker: two workers in this process, each on its own connection, share
/// one global limit; a worker whose connection dies gives its leases back without anyone's help.
final class GlobalLimitTests: XCTestCase {
    struct Span: JobParameters {
        static let jobName = "gl-span"
        var ms: Int
    }

    /// Start and end of every run, and the most running at once, counted as they happen.
    final class Overlap: Sendable {
        private let state = Mutex<(running: Int, most: Int, done: [String])>((0, 0, []))
        func begin() { state.withLock { $0.running += 1; $0.most = max($0.most, $0.running) } }
        func end(_ id: String) { state.withLock { $0.running -= 1; $0.done.append(id) } }
        var most: Int { state.withLock { $0.most } }
        var done: [String] { state.withLock { $0.done } }
    }

    private func registry(_ overlap: Overlap, permits: Int?, key: String) throws -> JobRegistry {
        var r = JobRegistry()
        r.register(Span.self) { args, context in
            overlap.begin()
            defer { overlap.end(context.jobID) }
            try await Task.sleep(for: .milliseconds(args.ms))
        }
        // A unique job limit per test run: the token queue's name comes from the job name and key.
        if let permits { try r.limit(Span.jobName, global: GlobalLimit(permits: permits) { _ in key }) }
        return r
    }

    func testTwoWorkersNeverRunMoreThanTheLimitAndADeadWorkersLeasesComeBack() async throws {
        let key = "t\(UUID().uuidString.prefix(8).lowercased())"
        let overlap = Overlap()
        let queue = Topology.Queue(JobsBroker.uniqueQueue("glimit"))
        let topology = Topology(queues: [queue])
        let name = "warren-glimit-\(key)"
        var config = try AMQPConfiguration(url: JobsBroker.url)
        config.connectionName = name
        config.recovery.enabled = false
        let doomed = try await AMQPConnection.connect(config)
        let survivor = try await JobsBroker.connect()
        let (a, producer) = try await startWorker(doomed, topology, try registry(overlap, permits: 3, key: key)) { $0.concurrency = 4 }
        let (b, _) = try await startWorker(survivor, topology, try registry(overlap, permits: 3, key: key)) { $0.concurrency = 4 }
        let prod = try await JobProducer(connection: survivor, topology: topology)
        _ = producer

        let count = 40
        let results = await prod.enqueue(batch: (0..<count).map {
            JobRequest(name: Span.jobName, arguments: Array("{\"ms\":60}".utf8), options: EnqueueOptions(queue: queue.name, jobID: "s\($0)"))
        })
        XCTAssertEqual(results.filter { (try? $0.get()) == nil }.count, 0)
        try await eventually(timeout: 30) { overlap.done.count >= 10 }
        // Kill worker A's connection while it holds leases (what a SIGKILL does to its socket).
        XCTAssertEqual(try JobsBroker.closeConnections(named: name), 1)
        try await eventually(timeout: 60) { Set(overlap.done).count >= count }
        XCTAssertLessThanOrEqual(overlap.most, 3, "more jobs ran at once than the global limit")
        XCTAssertEqual(Set(overlap.done).count, count)

        try? await a.stop()
        try await b.stop()
        let ch = try await survivor.openChannel()
        let limitQueue = GlobalLimit(permits: 3).queueName(job: Span.jobName, key: key)
        let tokens = try await ch.inspectQueue(limitQueue).messageCount
        XCTAssertEqual(tokens, 3, "every token is back once no worker runs")
        _ = try? await ch.deleteQueue(limitQueue)
        try? await ch.deleteExchange("\(limitQueue).filled")
        await ch.close()
        await JobsBroker.cleanUp(queue, on: survivor)
        await survivor.close()
        await doomed.close()
    }
}
