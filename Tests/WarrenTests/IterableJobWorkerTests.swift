import Foundation
import Synchronization
import Warren
import WarrenAMQP
import XCTest

/// What test iterable jobs did, by key (each test its own).
final class ItemLog: Sendable {
    struct Entry: Sendable, Equatable {
        let item: Int
        let attempt: Int
    }
    static let shared = ItemLog()
    private let done = Mutex<[String: [Entry]]>([:])
    private let starts = Mutex<[String: [Int?]]>([:])

    func started(_ key: String, after cursor: Int?) { starts.withLock { $0[key, default: []].append(cursor) } }
    func add(_ key: String, _ item: Int, attempt: Int) { done.withLock { $0[key, default: []].append(Entry(item: item, attempt: attempt)) } }
    func entries(_ key: String) -> [Entry] { done.withLock { $0[key] ?? [] } }
    /// The cursor each delivery started after (`nil`: from the start), in order.
    func resumptions(_ key: String) -> [Int?] { starts.withLock { $0[key] ?? [] } }
}

/// Items 0..<items; each sleeps `ms`, then is recorded under `key`. The first attempt fails at item `failAt`.
struct TestIterate: IterableJob {
    static let jobName = "test-iterate"
    var key: String
    var items: Int
    var ms: Int
    var failAt: Int?

    func items(after cursor: Int?, context: JobContext) async throws -> IterableItems<[(cursor: Int, item: Int)]> {
        ItemLog.shared.started(key, after: cursor)
        return IterableItems(((cursor ?? -1) + 1 ..< items).map { (cursor: $0, item: $0) })
    }

    func fraction(at cursor: Int) -> Double? { Double(cursor + 1) / Double(items) }

    func process(_ item: Int, context: JobContext) async throws {
        if item == failAt, context.attempt == 1 { throw JobFailure.retryable("planned failure at item \(item)") }
        if ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
        ItemLog.shared.add(key, item, attempt: context.attempt)
    }
}

/// Records the progress reports of the jobs it is set on, as a job store's middleware would.
final class ProgressRecorder: JobMiddleware, JobProgressReporter {
    private let reports = Mutex<[String]>([])
    var messages: [String] { reports.withLock { $0 } }

    func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        var attempt = attempt
        attempt.context.progressReporter = self
        return try await next(attempt)
    }

    func report(jobID: String, fraction: Double, message: String?) async {
        reports.withLock { $0.append("\(fraction) \(message ?? "-")") }
    }
}

/// Iterable jobs on a real broker: interrupted at their time limit or by shutdown, they resume at their
/// cursor with their attempt count unchanged; after a failure, the retry resumes after the last item done.
final class IterableJobWorkerTests: XCTestCase {
    private static let quick = RetryPolicy(maxAttempts: 3, backoff: Backoff(base: .milliseconds(50), cap: .milliseconds(100), jitter: 0))

    private func registry(timeout: Duration? = nil, retry: RetryPolicy? = nil) -> JobRegistry {
        var r = JobRegistry()
        r.register(iterable: TestIterate.self, retry: retry, timeout: timeout)
        return r
    }

    /// Every item done, none repeated more than once per interruption, every resumption right after an item
    /// that was done.
    private func checkResumed(_ key: String, items: Int, file: StaticString = #filePath, line: UInt = #line) -> Int {
        let entries = ItemLog.shared.entries(key)
        let starts = ItemLog.shared.resumptions(key)
        XCTAssertEqual(Set(entries.map(\.item)), Set(0..<items), "every item done", file: file, line: line)
        let interruptions = starts.count - 1
        XCTAssertLessThanOrEqual(entries.count - items, interruptions, "at most one item repeated per interruption", file: file, line: line)
        XCTAssertTrue(starts.first == .some(nil), "the first delivery starts from the beginning", file: file, line: line)
        for case let cursor? in starts.dropFirst() {
            XCTAssertTrue(entries.contains { $0.item == cursor }, "resumed after \(cursor), which was done", file: file, line: line)
        }
        return interruptions
    }

    func testTimeLimitInterruptsAndTheNextDeliveryResumesAtTheCursorWithTheSameAttempt() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("iterate-timeout"))
        let topology = Topology(queues: [q])
        // One attempt only: were an interruption a failed attempt, the job would be dead-lettered at once.
        let (running, producer) = try await startWorker(conn, topology, registry(timeout: .seconds(1), retry: .never))
        try await producer.enqueue(TestIterate(key: q.name, items: 60, ms: 50), options: .init(queue: q.name))
        try await eventually(timeout: 60) { Set(ItemLog.shared.entries(q.name).map(\.item)).count == 60 }
        let interruptions = checkResumed(q.name, items: 60)
        XCTAssertGreaterThanOrEqual(interruptions, 1, "60 items of 50 ms do not fit in a 1 s time limit")
        XCTAssertEqual(Set(ItemLog.shared.entries(q.name).map(\.attempt)), [1], "an interruption is not a failed attempt")
        let ch = try await conn.openChannel()
        let dead = try await ch.inspectQueue(WireFormat.deadLetterQueue(for: q.name)).messageCount
        XCTAssertEqual(dead, 0)
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    func testShutdownRepublishesWithTheCursorAndTheNextWorkerResumes() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("iterate-shutdown"))
        let topology = Topology(queues: [q])
        let (first, producer) = try await startWorker(conn, topology, registry()) { $0.shutdownGracePeriod = .milliseconds(100) }
        try await producer.enqueue(TestIterate(key: q.name, items: 40, ms: 50), options: .init(queue: q.name))
        try await eventually { ItemLog.shared.entries(q.name).count >= 5 }
        try await first.stop()
        // Stopped mid-way: the job is back in its queue, same attempt, with the cursor of an item that was done.
        let ch = try await conn.openChannel()
        guard let waiting = try await ch.get(queue: q.name) else { return XCTFail("the interrupted job is not in its queue") }
        let envelope = try JobEnvelope(properties: waiting.properties, body: waiting.body)
        XCTAssertEqual(envelope.attempt, 1)
        let cursor = envelope.headers[WireFormat.Header.cursor]?.stringValue.flatMap { Int($0) }
        XCTAssertNotNil(cursor, "the republished job carries its cursor")
        XCTAssertEqual(cursor, ItemLog.shared.entries(q.name).map(\.item).max(), "the cursor is the last item done")
        try await waiting.nack(requeue: true)
        let (second, _) = try await startWorker(conn, topology, registry())
        try await eventually(timeout: 30) { Set(ItemLog.shared.entries(q.name).map(\.item)).count == 40 }
        XCTAssertEqual(checkResumed(q.name, items: 40), 1)
        XCTAssertEqual(Set(ItemLog.shared.entries(q.name).map(\.attempt)), [1])
        try await second.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    func testARetryResumesAfterTheLastItemThatSucceeded() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("iterate-retry"))
        let topology = Topology(queues: [q])
        let (running, producer) = try await startWorker(conn, topology, registry(retry: Self.quick))
        try await producer.enqueue(TestIterate(key: q.name, items: 10, ms: 0, failAt: 5), options: .init(queue: q.name))
        try await eventually { ItemLog.shared.entries(q.name).count >= 10 }
        let entries = ItemLog.shared.entries(q.name)
        XCTAssertEqual(entries, (0..<5).map { .init(item: $0, attempt: 1) } + (5..<10).map { .init(item: $0, attempt: 2) },
                       "the retry started after item 4, the last that succeeded; item 5 was not skipped")
        XCTAssertEqual(ItemLog.shared.resumptions(q.name), [nil, 4])
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    func testProgressIsReportedAfterEachItemThatSucceeded() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("iterate-progress"))
        let topology = Topology(queues: [q])
        let recorder = ProgressRecorder()
        let (running, producer) = try await startWorker(conn, topology, registry(retry: Self.quick), middleware: [recorder])
        try await producer.enqueue(TestIterate(key: q.name, items: 4, ms: 0, failAt: 2), options: .init(queue: q.name))
        try await eventually { recorder.messages.count >= 4 }
        // Item 2 fails on attempt 1: no report for it then; attempt 2 resumes after item 1.
        XCTAssertEqual(recorder.messages, ["0.25 cursor 0", "0.5 cursor 1", "0.75 cursor 2", "1.0 cursor 3"])
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    func testACursorThatDoesNotDecodeIsDeadLetteredAsInvalidArguments() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("iterate-bad"))
        let topology = Topology(queues: [q])
        let (running, producer) = try await startWorker(conn, topology, registry())
        var options = EnqueueOptions(queue: q.name)
        options.headers[WireFormat.Header.cursor] = .string("\"not a number\"")
        try await producer.enqueue(TestIterate(key: q.name, items: 3, ms: 0), options: options)
        let ch = try await conn.openChannel()
        let dlq = WireFormat.deadLetterQueue(for: q.name)
        try await eventually { try await ch.inspectQueue(dlq).messageCount == 1 }
        guard let deadLetter = try await drain(dlq, on: ch).first else { return XCTFail("nothing dead-lettered") }
        let dead = try JobEnvelope(properties: deadLetter.properties, body: [])
        XCTAssertEqual(dead.deadReason, .invalidArguments)
        XCTAssertTrue(dead.failure?.errorMessage.contains(WireFormat.Header.cursor) ?? false, "\(dead.failure?.errorMessage ?? "")")
        XCTAssertEqual(ItemLog.shared.entries(q.name), [], "no item ran from a cursor it could not read")
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }
}
