import Foundation
@testable import Warren
import WarrenAMQP
import WarrenStore
import XCTest

private struct Add: JobParameters {
    static let jobName = "add"
    var x: Int
    var y: Int
}

private struct Sum: JobParameters {
    static let jobName = "tsum"
    var numbers: [Int]
}

/// Celery chords on a real worker with each real job store (SQLite and PostgreSQL): Celery's messages (as Celery 5.7 sends them,
/// the unlock first) published the way Celery does, the body published by ``CeleryChordUnlock``.
final class CeleryChordWorkerTests: XCTestCase {
    private func registry(_ log: JobLog, store: any JobStore) -> JobRegistry {
        var r = JobRegistry()
        r.register(Add.self, positionalArguments: ["x", "y"]) { args, ctx -> Int in
            await log.add("add", ctx)
            if args.x < 0 { throw JobFailure.permanent("negative") }
            return args.x + args.y
        }
        r.register(Sum.self, positionalArguments: ["numbers"]) { args, ctx in
            await log.add("tsum", ctx, note: args.numbers.map(String.init).joined(separator: ","))
        }
        r.register(name: "onerr", positionalArguments: ["task_id"]) { body, ctx in
            let args = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            await log.add("onerr", ctx, note: args?["task_id"] as? String ?? "?")
        }
        CeleryChordUnlock.register(in: &r, store: store, lease: .seconds(2))
        return r
    }

    /// Runs `body` on each backend (a fresh SQLite file, the local PostgreSQL) with a worker on a new queue
    /// (tracker, workflow middleware over the store).
    private func withChordWorker(_ body: (Topology.Queue, AMQPChannel, JobLog, any JobStore) async throws -> Void) async throws {
        for (name, store, _) in try await StoreBackends.open() {
            do { try await withChordWorker(store: store, body) } catch { XCTFail("\(name): \(error)") }
            await store.close()
        }
    }

    private func withChordWorker(store: any JobStore, _ body: (Topology.Queue, AMQPChannel, JobLog, any JobStore) async throws -> Void) async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("chord"))
        let topology = Topology(queues: [q])
        let log = JobLog()
        let middleware: [any JobMiddleware] = [JobTracker(store: store), WorkflowMiddleware(connection: conn, topology: topology, ledger: store.batchLedger)]
        let (running, _) = try await startWorker(conn, topology, registry(log, store: store), middleware: middleware) {
            $0.foreignFormats = [.celery]
            $0.concurrency = 4
        }
        let ch = try await conn.openChannel(confirmWindow: 10)
        do { try await body(q, ch, log, store) } catch { XCTFail("\(error)") }
        try await running.stop()
        await ch.close()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    /// Publishes a Celery protocol 2 message as `send_task` does (default exchange, routing key = queue).
    private func send(_ ch: AMQPChannel, _ q: Topology.Queue, _ task: String, id: String, group: String? = nil, body: String) async throws {
        let headers: FieldTable = ["lang": "py", "task": .string(task), "id": .string(id), "retries": .int32(0), "eta": .void,
                                   "group": group.map { .string($0) } ?? .void, "root_id": .string(id), "parent_id": .void]
        let message = OutgoingMessage(exchange: "", routingKey: q.name, mandatory: true,
                                      properties: BasicProperties(contentType: "application/json", contentEncoding: "utf-8",
                                                                  headers: headers, persistent: true, correlationID: id),
                                      body: Array(body.utf8))
        let outcome = try await ch.publish(message)
        XCTAssertEqual(outcome, .acked, id)
    }

    /// Sends a chord as Celery does: the unlock first, then the header tasks `add(x, x)` for each x.
    private func sendChord(_ ch: AMQPChannel, _ q: Topology.Queue, xs: [Int], bodyOptions: String = "", maxRetries: String = "null",
                           unlockID: String? = nil) async throws -> (group: String, body: String, headers: [String]) {
        let group = StoreBackends.id("g"), bodyID = StoreBackends.id("body")
        let headers = xs.indices.map { "\(group).h\($0)" }
        let unlock = CeleryChordTests.unlockBody(group: group, bodyID: bodyID, headers: headers, interval: "0.2", maxRetries: maxRetries,
                                                 bodyOptions: bodyOptions)
        try await send(ch, q, "celery.chord_unlock", id: unlockID ?? "\(group).unlock", body: unlock)
        for (i, x) in xs.enumerated() {
            try await send(ch, q, "add", id: headers[i], group: group,
                           body: #"[[\#(x), \#(x)], {}, {"chord": {"task": "tsum", "args": [], "kwargs": {}, "options": {"task_id": "\#(bodyID)"}}}]"#)
        }
        return (group, bodyID, headers)
    }

    func testAChordRunsItsBodyOnceWithTheHeaderResultsInOrderAndACopyOfTheUnlockPublishesNothing() async throws {
        try await withChordWorker { q, ch, log, store in
            let chord = try await sendChord(ch, q, xs: [1, 2, 3])
            let ran = await log.wait(timeout: 30) { $0.contains { $0.name == "tsum" } }
            XCTAssertTrue(ran, "the body ran")
            let note = await log.note(chord.body)
            let bodyID = await log.entries.first(where: { $0.name == "tsum" })?.id
            XCTAssertEqual(note, "2,4,6", "the body got the header results in header order")
            XCTAssertEqual(bodyID, chord.body, "under the id Celery froze")
            // A second unlock of the same chord (a redelivered copy) after the body was published: nothing again.
            let unlock = CeleryChordTests.unlockBody(group: chord.group, bodyID: chord.body, headers: chord.headers, interval: "0.2")
            try await send(ch, q, "celery.chord_unlock", id: "\(chord.group).copy", body: unlock)
            try await eventually(timeout: 20) { try await store.status("\(chord.group).copy").state == .succeeded }
            try await Task.sleep(for: .milliseconds(500))
            let count = await log.count("tsum")
            XCTAssertEqual(count, 1, "the body ran exactly once")
            // The claim hangs on a sealed batch without children, swept with it after the retention.
            let ledger = try XCTUnwrap(store.batchLedger)
            let held = try await ledger.snapshot("celery-chord.\(chord.group)")
            XCTAssertEqual(held?.sealed, true)
            XCTAssertEqual(held?.enqueued, [.success])
            guard store.location.hasPrefix("sqlite") else { return }  // never sweep the shared PostgreSQL database
            let report = try await store.sweep(SweepPolicy(retention: .seconds(60)), now: Date().addingTimeInterval(3_600))
            XCTAssertEqual(report.batches, 1)
            let swept = try await ledger.snapshot("celery-chord.\(chord.group)")
            XCTAssertNil(swept)
        }
    }

    func testABodyClaimLeftByAKilledUnlockIsTakenOverAfterItsLease() async throws {
        try await withChordWorker { q, ch, log, store in
            // An unlock killed after claiming the body and before the broker confirmed it leaves its claim
            // (the lease is 2 s here): the next unlock waits for it, then publishes the body once.
            let group = StoreBackends.id("g"), bodyID = StoreBackends.id("body")
            let ledger = try XCTUnwrap(store.batchLedger)
            let claimedAt = Date()
            let claim = try await ledger.claim(.success, of: "celery-chord.\(group)", by: "killed-unlock", at: .now, lease: .seconds(2))
            XCTAssertEqual(claim, .won)
            let headers = ["\(group).h0"]
            try await send(ch, q, "celery.chord_unlock", id: "\(group).unlock",
                           body: CeleryChordTests.unlockBody(group: group, bodyID: bodyID, headers: headers, interval: "0.2"))
            try await send(ch, q, "add", id: headers[0], group: group, body: #"[[4, 4], {}, {"chord": {"task": "tsum"}}]"#)
            let ran = await log.wait(timeout: 30) { $0.contains { $0.name == "tsum" } }
            XCTAssertTrue(ran, "the body ran once the lease ran out")
            let bodyRanAt = await log.ranAt(bodyID)
            let ranAt = try XCTUnwrap(bodyRanAt)
            XCTAssertGreaterThanOrEqual(ranAt.timeIntervalSince(claimedAt), 1.99, "not before the lease ran out")
            try await Task.sleep(for: .milliseconds(800))
            let (count, note) = (await log.count("tsum"), await log.note(bodyID))
            XCTAssertEqual(count, 1)
            XCTAssertEqual(note, "8")
        }
    }

    func testADeadHeaderTaskRunsTheBodysLinkErrorOnceAndNeverTheBody() async throws {
        try await withChordWorker { q, ch, log, _ in
            let onerr = #""link_error": {"task": "onerr", "args": [], "kwargs": {}, "options": {}, "subtask_type": null, "immutable": false}, "#
            let chord = try await sendChord(ch, q, xs: [1, -2, 3], bodyOptions: onerr)
            let ran = await log.wait(timeout: 30) { $0.contains { $0.name == "onerr" } }
            XCTAssertTrue(ran, "the link_error ran")
            let note = await log.entries.first(where: { $0.name == "onerr" })?.note
            XCTAssertEqual(note, chord.body, "given the body's task id")
            try await Task.sleep(for: .milliseconds(800))
            let (errs, sums) = (await log.count("onerr"), await log.count("tsum"))
            XCTAssertEqual(errs, 1)
            XCTAssertEqual(sums, 0, "the body never runs")
        }
    }

    func testWithoutLinkErrorTheUnlockIsDeadLetteredNamingTheDeadTaskOrAfterMaxRetries() async throws {
        try await withChordWorker { q, ch, log, _ in
            let dying = try await sendChord(ch, q, xs: [1, -2, 3])
            // Header task h1 is never sent: the unlock gives up after max_retries polls.
            let group = StoreBackends.id("g")
            try await send(ch, q, "celery.chord_unlock", id: "\(group).unlock",
                           body: CeleryChordTests.unlockBody(group: group, headers: ["\(group).h0", "\(group).h1"], interval: "0.1", maxRetries: "3"))
            try await send(ch, q, "add", id: "\(group).h0", group: group, body: #"[[5, 5], {}, {"chord": {"task": "tsum"}}]"#)
            var dead: [String: AMQPDelivery] = [:]
            try await eventually(timeout: 30) {
                for d in try await drain(WireFormat.deadLetterQueue(for: q.name), on: ch) { dead[d.properties.messageID ?? "?"] = d }
                return dead.count >= 3
            }
            func header(_ id: String, _ name: String) -> String? { dead[id]?.properties.headers?[name]?.stringValue }
            XCTAssertEqual(Set(dead.keys), [dying.headers[1], "\(dying.group).unlock", "\(group).unlock"])
            XCTAssertEqual(header("\(dying.group).unlock", WireFormat.Header.deadReason), DeadLetterReason.nonRetryable.rawValue)
            let why = header("\(dying.group).unlock", WireFormat.Header.errorMessage) ?? ""
            XCTAssertTrue(why.contains("header task(s) \(dying.headers[1]) dead (non-retryable: JobFailure.permanent: negative)"), why)
            let gaveUp = header("\(group).unlock", WireFormat.Header.errorMessage) ?? ""
            XCTAssertTrue(gaveUp.contains("gave up after 3 polls (max_retries 3): header task(s) \(group).h1 not finished"), gaveUp)
            let sums = await log.count("tsum")
            XCTAssertEqual(sums, 0, "no body ran")
        }
    }
}
