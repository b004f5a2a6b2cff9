import Foundation
import Synchronization
import Warren
import WarrenAMQP
import WarrenMetrics
import WarrenTestSupport
import XCTest

/// Work queues with a length limit, against the real broker: a full queue is a clear `queueFull` (nothing
/// dropped, nothing enqueued behind the caller's back), or a wait for room when asked; a nack the producer
/// cannot blame on a full queue is retried until it goes through, and is an error only after the deadline.
final class BackpressureTests: XCTestCase {
    private func request(_ queue: String, _ i: Int, _ configure: (inout EnqueueOptions) -> Void = { _ in }) -> JobRequest {
        var o = EnqueueOptions(queue: queue, jobID: "job-\(i)")
        configure(&o)
        return JobRequest(name: "noop", arguments: Array("{}".utf8), options: o)
    }

    /// Publish failures by code, as a metrics observer sees them.
    final class FailureRecorder: PublishObserver {
        let failures = Mutex<[WarrenError.Code]>([])
        func published(queue: String, duration: Duration, ok: Bool) {}
        func publishFailed(queue: String, code: WarrenError.Code) { failures.withLock { $0.append(code) } }
    }

    func testTheEnqueuePastTheLimitFailsWithQueueFullAndNothingIsDropped() async throws {
        let conn = try await JobsBroker.connect()
        let queue = Topology.Queue(JobsBroker.uniqueQueue("full"), maxLength: 1000)
        let topology = Topology(queues: [queue])
        let ch = try await conn.openChannel()
        try await topology.declare(on: ch)
        let recorder = FailureRecorder()
        let producer = try await JobProducer(connection: conn, topology: topology, observer: recorder)

        let first = await producer.enqueue(batch: (0..<1000).map { request(queue.name, $0) })
        XCTAssertEqual(first.filter { (try? $0.get()) == nil }.count, 0)
        do {
            try await producer.enqueue(request(queue.name, 1000))
            XCTFail("the 1,001st job was accepted")
        } catch {
            XCTAssertEqual(error.code, .queueFull)
            XCTAssertTrue(error.message.contains("'\(queue.name)'") && error.message.contains("1000"), error.message)
        }
        let more = await producer.enqueue(batch: (1001..<1011).map { request(queue.name, $0) })
        XCTAssertEqual(more.map { (try? $0.get()) == nil ? ($0.failureCode ?? .broker) : nil }, Array(repeating: .queueFull, count: 10))
        let count = try await ch.inspectQueue(queue.name).messageCount
        XCTAssertEqual(count, 1000)
        // What metrics (warren_publish_failures_total) and `warren status` show.
        XCTAssertEqual(recorder.failures.withLock { $0 }, Array(repeating: .queueFull, count: 11))
        let status = try await BrokerStatus.collect(topology: topology, connection: conn, statistics: [])
        XCTAssertEqual(status.queues.map(\.isFull), [true])
        XCTAssertEqual(status.queues.first?.maxLength, 1000)

        await ch.close()
        await JobsBroker.cleanUp(queue, on: conn)
        await conn.close()
    }

    func testWaitWhenFullWaitsForRoom() async throws {
        let conn = try await JobsBroker.connect()
        let queue = Topology.Queue(JobsBroker.uniqueQueue("wait"), maxLength: 5)
        let topology = Topology(queues: [queue])
        let ch = try await conn.openChannel()
        try await topology.declare(on: ch)
        let producer = try await JobProducer(connection: conn, topology: topology)
        _ = await producer.enqueue(batch: (0..<5).map { request(queue.name, $0) })

        let patient = request(queue.name, 5) { $0.waitWhenFull = true; $0.timeout = .seconds(20) }
        let waiting = Task { () throws(WarrenError) -> String in try await producer.enqueue(patient) }
        try await Task.sleep(for: .milliseconds(500))
        let taken = try await ch.get(queue: queue.name, noAck: true)
        XCTAssertEqual(taken?.properties.messageID, "job-0")
        let id = try await waiting.value
        XCTAssertEqual(id, "job-5")
        let count = try await ch.inspectQueue(queue.name).messageCount
        XCTAssertEqual(count, 5)

        await ch.close()
        await JobsBroker.cleanUp(queue, on: conn)
        await conn.close()
    }

    /// The producer's topology knows no limit for the queue (declared elsewhere with one): its nacks look like
    /// broker trouble, so the publish is retried, single and batch, until room appears.
    func testANackNotKnownToBeAFullQueueIsRetriedUntilItGoesThrough() async throws {
        let conn = try await JobsBroker.connect()
        let limited = Topology.Queue(JobsBroker.uniqueQueue("nack"), maxLength: 1)
        let ch = try await conn.openChannel()
        try await Topology(queues: [limited]).declare(on: ch)
        let unaware = Topology(queues: [Topology.Queue(limited.name)])
        let producer = try await JobProducer(connection: conn, topology: unaware)
        try await producer.enqueue(request(limited.name, 0))

        let (one, two) = (request(limited.name, 1), request(limited.name, 2))
        let single = Task { () throws(WarrenError) -> String in try await producer.enqueue(one) }
        let batch = Task { await producer.enqueue(batch: [two]) }
        try await Task.sleep(for: .milliseconds(600))
        var taken: [String] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while taken.count < 3, ContinuousClock.now < deadline {  // make room, one job at a time
            if let m = try await ch.get(queue: limited.name, noAck: true) { taken.append(m.properties.messageID ?? "?") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let id = try await single.value
        XCTAssertEqual(id, "job-1")
        let batched = await batch.value
        XCTAssertEqual(try batched[0].get(), "job-2")
        XCTAssertEqual(Set(taken), ["job-0", "job-1", "job-2"])

        // Still no room at the deadline: then, and only then, an error.
        try await producer.enqueue(request(limited.name, 3))
        let started = ContinuousClock.now
        do {
            try await producer.enqueue(request(limited.name, 4) { $0.timeout = .seconds(1) })
            XCTFail("accepted into a full queue")
        } catch {
            XCTAssertEqual(error.code, .nacked, "\(error)")
            XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .seconds(1))
        }

        await ch.close()
        await JobsBroker.cleanUp(limited, on: conn)
        await conn.close()
    }
}

private extension Result where Failure == WarrenError {
    var failureCode: WarrenError.Code? {
        if case .failure(let e) = self { return e.code }
        return nil
    }
}
