import Foundation
import Warren
import WarrenAMQP
import XCTest

/// `warren dlq` core against the real broker: filters, show, requeue (reset / kept attempts, edited
/// arguments, --to), dry run, purge, and that browsing leaves queues as they were.
final class DeadLetterTests: XCTestCase {
    private var connection: AMQPConnection!
    private var queue: Topology.Queue!
    private var channel: AMQPChannel!

    override func setUp() async throws {
        connection = try await JobsBroker.connect()
        queue = Topology.Queue(JobsBroker.uniqueQueue("dlq"))
        channel = try await connection.openChannel(confirmWindow: 100)
        try await Topology(queues: [queue]).declare(on: channel)
    }

    override func tearDown() async throws {
        await JobsBroker.cleanUp(queue, on: connection)
        await connection.close()
    }

    private var dead: String { WireFormat.deadLetterQueue(for: queue.name) }
    private let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    /// Six dead jobs: ids d0...d5, jobs alternate email/report, errors Timeout/Boom, attempts 1...3, failed 1 h apart.
    private func fill() async throws {
        for i in 0..<6 {
            let m = dlqTestMessage(id: "d\(i)", job: i % 2 == 0 ? "email" : "report", queue: queue.name,
                                   errorType: i < 3 ? "Timeout" : "Boom", message: "failure number \(i)",
                                   attempts: i % 3 + 1, failedAt: t0.addingTimeInterval(Double(i) * 3600))
            let got1 = try await channel.publish(m)
            XCTAssertEqual(got1, .acked)
        }
    }

    private func ids(_ filter: DeadLetterFilter = .all, limit: Int? = nil) async throws -> [String] {
        try await DeadLetterBrowser(connection: connection).list(queue: dead, filter: filter, limit: limit).map(\.id)
    }

    func testFiltersSelectByJobErrorTimeAndAttempts() async throws {
        try await fill()
        let all = ["d0", "d1", "d2", "d3", "d4", "d5"]
        let got2 = try await ids()
        XCTAssertEqual(got2, all)
        let got3 = try await ids(DeadLetterFilter(jobs: ["email"]))
        XCTAssertEqual(got3, ["d0", "d2", "d4"])
        let got4 = try await ids(DeadLetterFilter(errorTypes: ["Boom"]))
        XCTAssertEqual(got4, ["d3", "d4", "d5"])
        let got5 = try await ids(DeadLetterFilter(errorPattern: "NUMBER [15]$"))
        XCTAssertEqual(got5, ["d1", "d5"])
        let got6 = try await ids(DeadLetterFilter(errorPattern: "^time"))
        XCTAssertEqual(got6, ["d0", "d1", "d2"])
        let got7 = try await ids(DeadLetterFilter(failedBefore: t0.addingTimeInterval(2 * 3600)))
        XCTAssertEqual(got7, ["d0", "d1"])
        let got8 = try await ids(DeadLetterFilter(failedAfter: t0.addingTimeInterval(4 * 3600)))
        XCTAssertEqual(got8, ["d4", "d5"])
        let got9 = try await ids(DeadLetterFilter(minAttempts: 3))
        XCTAssertEqual(got9, ["d2", "d5"])
        let got10 = try await ids(DeadLetterFilter(maxAttempts: 1))
        XCTAssertEqual(got10, ["d0", "d3"])
        let got11 = try await ids(DeadLetterFilter(jobs: ["report"], errorTypes: ["Boom"]))
        XCTAssertEqual(got11, ["d3", "d5"])
        let got12 = try await ids(limit: 2)
        XCTAssertEqual(got12, ["d0", "d1"])
        let got13 = try await ids(DeadLetterFilter(reasons: ["expired"]))
        XCTAssertEqual(got13, [])
        XCTAssertThrowsError(try DeadLetterFilter(errorPattern: "(").validate())
        // Browsing reordered and removed nothing.
        let got14 = try await ids()
        XCTAssertEqual(got14, all)
        let got15 = try await channel.inspectQueue(dead).messageCount
        XCTAssertEqual(got15, 6)

        let stats = try await DeadLetterBrowser(connection: connection).stats(queue: dead)
        XCTAssertEqual(stats.count, 6)
        XCTAssertEqual(stats.byJob, ["email": 3, "report": 3])
        XCTAssertEqual(stats.byErrorType, ["Timeout": 3, "Boom": 3])
        XCTAssertEqual(stats.oldest, t0)
        XCTAssertEqual(stats.newest, t0.addingTimeInterval(5 * 3600))
    }

    func testShowGivesTheWholeMessageWithHistory() async throws {
        try await fill()
        let found = try await DeadLetterBrowser(connection: connection).find(id: "d2", queue: dead)
        XCTAssertEqual(found.count, 1)
        let d = try XCTUnwrap(found.first)
        XCTAssertEqual(d.job, "email")
        XCTAssertEqual(d.reason, "exhausted")
        XCTAssertEqual(d.attempts, 3)
        XCTAssertEqual(d.workQueue, queue.name)
        XCTAssertEqual(d.failedAt, t0.addingTimeInterval(2 * 3600))
        XCTAssertEqual(d.failure?.history.map(\.attempt), [1, 2, 3])
        XCTAssertEqual(d.failure?.history.last?.message, "failure number 2")
        XCTAssertEqual(String(decoding: d.body, as: UTF8.self), #"{"id":"d2"}"#)
        XCTAssertEqual(d.headers["x-custom"], .string("kept"))
        let got16 = try await DeadLetterBrowser(connection: connection).find(id: "nope", queue: dead).count
        XCTAssertEqual(got16, 0)
    }

    func testRequeueResetsAttemptsAndEditsArguments() async throws {
        try await fill()
        let options = RequeueOptions(arguments: Array(#"{"fixed":true}"#.utf8))
        let report = try await DeadLetterMover(connection: connection, batchSize: 2)
            .requeue(queue: dead, filter: DeadLetterFilter(jobs: ["email"]), options: options)
        XCTAssertEqual(report.done, 3)
        XCTAssertEqual(report.failed, 0)
        XCTAssertEqual(report.maxDuplicatesIfKilled, 2)
        let work = try await drainWork(queue.name)
        XCTAssertEqual(work.map { $0.properties.messageID }, ["d0", "d2", "d4"])
        for m in work {
            let job = try JobEnvelope(properties: m.properties, body: m.body)
            XCTAssertEqual(job.attempt, 1)
            XCTAssertNil(job.deadReason)
            XCTAssertNil(job.headers[WireFormat.Header.deadAt])
            XCTAssertEqual(String(decoding: job.body, as: UTF8.self), #"{"fixed":true}"#)
            XCTAssertNotNil(job.failure, "the failure history is kept")
            XCTAssertEqual(job.headers["x-custom"], .string("kept"))
        }
        // What was not selected stayed, in order.
        let got17 = try await ids()
        XCTAssertEqual(got17, ["d1", "d3", "d5"])
    }

    /// A requeue of every message consumes the dead-letter queue (no filter) and ends once the messages counted
    /// at the start are in: more messages than a batch and than the consumer's prefetch each reach the work
    /// queue once, in order, and the dead-letter queue is left empty.
    func testRequeueOfEveryMessageMovesAllInOrder() async throws {
        let count = 900
        let messages = (0..<count).map { i in
            dlqTestMessage(id: "e\(1000 + i)", job: "email", queue: queue.name, errorType: "Boom", message: "failure \(i)",
                           attempts: 1, failedAt: t0)
        }
        let outcomes = await channel.publish(messages)
        XCTAssertEqual(outcomes.filter { (try? $0.get()) == .acked }.count, count)
        let report = try await DeadLetterMover(connection: connection, batchSize: 200).requeue(queue: dead)
        XCTAssertEqual(report.done, count)
        XCTAssertEqual(report.failed, 0)
        let work = try await drainWork(queue.name)
        XCTAssertEqual(work.map { $0.properties.messageID }, messages.map { $0.properties.messageID })
        let left = try await channel.inspectQueue(dead).messageCount
        XCTAssertEqual(left, 0)
    }

    func testRequeueKeepingAttemptsToAnotherQueueWithLimit() async throws {
        try await fill()
        let other = Topology.Queue(JobsBroker.uniqueQueue("dlq-to"))
        try await Topology(queues: [other]).declare(on: channel)
        defer { Task { [connection] in await JobsBroker.cleanUp(other, on: connection!) } }
        let report = try await DeadLetterMover(connection: connection)
            .requeue(queue: dead, filter: DeadLetterFilter(minAttempts: 2), limit: 3,
                     options: RequeueOptions(destination: other.name, keepAttempts: true))
        XCTAssertEqual(report.done, 3)
        let work = try await drainWork(other.name)
        XCTAssertEqual(work.map { $0.properties.messageID }, ["d1", "d2", "d4"])
        XCTAssertEqual(try work.map { try JobEnvelope(properties: $0.properties, body: $0.body).attempt }, [2, 3, 2])
        XCTAssertEqual(try work.map { try JobEnvelope(properties: $0.properties, body: $0.body).queue }, Array(repeating: other.name, count: 3))
        let got18 = try await drainWork(queue.name).count
        XCTAssertEqual(got18, 0)
        let got19 = try await ids()
        XCTAssertEqual(got19, ["d0", "d3", "d5"])
    }

    func testRequeueToAMissingQueueLeavesTheJobsDead() async throws {
        try await fill()
        let report = try await DeadLetterMover(connection: connection)
            .requeue(queue: dead, filter: DeadLetterFilter(ids: ["d1"]), options: RequeueOptions(destination: "no.such.queue.\(UUID())"))
        XCTAssertEqual(report.done, 0)
        XCTAssertEqual(report.failed, 1)
        XCTAssertTrue(report.errors.first?.contains("not routed") == true, "\(report.errors)")
        let got20 = try await ids()
        XCTAssertEqual(got20, ["d0", "d1", "d2", "d3", "d4", "d5"])
    }

    func testDryRunAndBrowsingTouchNothing() async throws {
        try await fill()
        let before = try await snapshot(dead)
        // A dry run is a browse with the requeue's selection (what `warren dlq requeue --dry-run` does).
        let options = RequeueOptions()
        let preview = try await DeadLetterBrowser(connection: connection).list(queue: dead, filter: DeadLetterFilter(jobs: ["report"]))
        XCTAssertEqual(preview.map(\.id), ["d1", "d3", "d5"])
        XCTAssertEqual(Set(preview.map(options.target)), [queue.name])
        let got21 = try await snapshot(dead)
        XCTAssertEqual(got21, before)
        let got22 = try await channel.inspectQueue(queue.name).messageCount
        XCTAssertEqual(got22, 0)
    }

    func testPurgeWithFilters() async throws {
        try await fill()
        let report = try await DeadLetterMover(connection: connection)
            .purge(queue: dead, filter: DeadLetterFilter(errorTypes: ["Timeout"], minAttempts: 2))
        XCTAssertEqual(report.done, 2)
        let got23 = try await ids()
        XCTAssertEqual(got23, ["d0", "d3", "d4", "d5"])
        let got24 = try await channel.inspectQueue(queue.name).messageCount
        XCTAssertEqual(got24, 0)
        let all = try await DeadLetterMover(connection: connection).purge(queue: dead)
        XCTAssertEqual(all.done, 4)
        let got25 = try await channel.inspectQueue(dead).messageCount
        XCTAssertEqual(got25, 0)
    }

    func testQueuesThatDoNotExistAreSkipped() async throws {
        let found = try await DeadLetterQueues.existing([queue.name, "no.such.\(UUID())", dead], on: connection)
        XCTAssertEqual(found.map(\.name), [dead])
        do {
            _ = try await DeadLetterBrowser(connection: connection).list(queue: "no.such.\(UUID()).dead")
            XCTFail("expected notFound")
        } catch let error as WarrenError {
            XCTAssertEqual(error.code, .notFound)
        }
    }

    /// Reads a queue in full and returns it (ids, headers, bodies), leaving it as it was.
    private func snapshot(_ name: String) async throws -> [DeadLetterRecord] {
        try await DeadLetterBrowser(connection: connection).list(queue: name).map {
            var r = DeadLetterRecord($0)
            r.exchange = nil
            r.routingKey = nil
            return r
        }
    }

    /// Takes every message of a work queue (acked).
    private func drainWork(_ name: String) async throws -> [AMQPDelivery] {
        var got: [AMQPDelivery] = []
        while got.count < 1000, let d = try await channel.get(queue: name) {
            try await d.ack()
            got.append(d)
        }
        return got
    }
}

/// A dead job as a worker leaves it: `attempts` failures recorded, then dead-lettered as exhausted.
func dlqTestMessage(id: String, job: String, queue: String, errorType: String, message: String, attempts: Int,
                    failedAt: Date) -> OutgoingMessage {
    var envelope = JobEnvelope(name: job, id: id, queue: queue, arguments: Array(#"{"id":"\#(id)"}"#.utf8),
                               enqueuedAt: failedAt.addingTimeInterval(-60), headers: ["x-custom": "kept"])
    for attempt in 1...attempts {
        let entry = FailureRecord.Entry(attempt: attempt, type: errorType, message: message, at: failedAt, host: "test-host")
        envelope = attempt < attempts ? envelope.retried(after: entry) : envelope.deadLettered(reason: .exhausted, failure: entry, at: failedAt)
    }
    return envelope.message(exchange: "", routingKey: WireFormat.deadLetterQueue(for: queue))
}
