import Foundation
import Warren
import WarrenAMQP
import XCTest

private struct Count: JobParameters {
    static let jobName = "wf-count"
    var start: Int?
}

private struct SagaStep: JobParameters {
    static let jobName = "wf-step"
    var n: Int
    var fail: Bool?
}

private struct Undo: JobParameters {
    static let jobName = "wf-undo"
    var n: Int
    var fail: Bool?
}

/// Chains, sagas, groups and failure paths on a real broker, run by a worker with the workflow middleware.
final class WorkflowTests: XCTestCase {
    private var log: JobLog!

    /// Every job appends "<job id> <what it saw>" to the log.
    private func registry() -> JobRegistry {
        var r = JobRegistry()
        let log = self.log!
        r.register(Count.self) { args, ctx -> Int in
            let seen = try ctx.previousResult(as: Int.self) ?? args.start ?? 1
            await log.add("count", ctx, note: "\(seen)")
            return seen + 1
        }
        r.register(SagaStep.self) { args, ctx -> String in
            await log.add("step", ctx, note: "\(args.n)")
            if args.fail == true { throw JobFailure.permanent("step \(args.n) refused") }
            return "done-\(args.n)"
        }
        r.register(Undo.self, retry: RetryPolicy(maxAttempts: 2, backoff: .init(base: .milliseconds(20), cap: .milliseconds(20), jitter: 0))) { args, ctx in
            await log.add("undo", ctx, note: "\(args.n) \(String(decoding: ctx.previousResult ?? [], as: UTF8.self))")
            if args.fail == true { throw JobFailure.retryable("cannot undo \(args.n)") }
        }
        r.register(name: "wf-alert") { _, ctx in
            await log.add("alert", ctx, note: String(decoding: ctx.previousResult ?? [], as: UTF8.self))
        }
        return r
    }

    private func start(_ middleware: WorkflowMiddleware? = nil) async throws
        -> (AMQPConnection, Topology.Queue, RunningWorker, JobProducer, WorkflowMiddleware) {
        log = JobLog()
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("workflow"))
        let topology = Topology(queues: [q])
        let workflows = middleware ?? WorkflowMiddleware(connection: conn, topology: topology, logger: quietLogger("wf"))
        let (running, producer) = try await startWorker(conn, topology, registry(), middleware: [workflows]) { $0.concurrency = 4 }
        return (conn, q, running, producer, workflows)
    }

    func testAChainOf50StepsPassesACounterThroughResults() async throws {
        let (conn, q, running, producer, _) = try await start()
        let steps = (1...50).map { _ in try! WorkflowStep.job(Count(start: nil)) }
        let id = try await producer.start(Workflow(id: "chain-\(UUID().uuidString.prefix(6))", kind: .chain, steps: steps, queue: q.name))
        let done = await log.wait(timeout: 60) { $0.count >= 50 }
        XCTAssertTrue(done)
        try await Task.sleep(for: .milliseconds(200))  // a stray extra step would show here
        let entries = await log.entries
        XCTAssertEqual(entries.map(\.note), (1...50).map(String.init), "each step saw the previous one's result; the last saw 50")
        XCTAssertEqual(entries.map(\.id), (1...50).map { "\(id).\($0)" })
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
    }

    func testADyingStepStopsTheChainAndRunsItsOnFailureJob() async throws {
        let (conn, q, running, producer, _) = try await start()
        let wf = Workflow.chain(try .job(Count(start: 7)), try .job(SagaStep(n: 2, fail: true)), try .job(Count(start: nil)),
                                id: "fail-\(UUID().uuidString.prefix(6))", onFailure: WorkflowJob(name: "wf-alert"), queue: q.name)
        try await producer.start(wf)
        let alerted = await log.wait { $0.contains { $0.name == "alert" } }
        XCTAssertTrue(alerted)
        try await Task.sleep(for: .milliseconds(300))
        let entries = await log.entries
        XCTAssertEqual(entries.map(\.name), ["count", "step", "alert"], "step 3 never ran; the on-failure job ran once")
        XCTAssertEqual(entries.last?.id, "\(wf.id).on-failure")
        XCTAssertTrue(entries.last?.note.contains("step 2 (wf-step) died: JobFailure.permanent: step 2 refused") == true, "\(entries.last?.note ?? "")")
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
    }

    func testASagaWhoseStep4FailsRunsCompensations3To1InOrderOnceEach() async throws {
        let (conn, q, running, producer, _) = try await start()
        let steps = try (1...5).map { n in try WorkflowStep.job(SagaStep(n: n, fail: n == 4), compensation: try WorkflowJob(Undo(n: n))) }
        let wf = Workflow(id: "saga-\(UUID().uuidString.prefix(6))", kind: .saga, steps: steps, onFailure: WorkflowJob(name: "wf-alert"), queue: q.name)
        try await producer.start(wf)
        let alerted = await log.wait { $0.contains { $0.name == "alert" } }
        XCTAssertTrue(alerted)
        try await Task.sleep(for: .milliseconds(300))
        let entries = await log.entries
        XCTAssertEqual(entries.map { "\($0.name) \($0.note)" }, [
            "step 1", "step 2", "step 3", "step 4",
            "undo 3 \"done-3\"", "undo 2 \"done-2\"", "undo 1 \"done-1\"",
            "alert {\"error\":\"step 4 (wf-step) died: JobFailure.permanent: step 4 refused\",\"step\":1,\"workflow\":\"\(wf.id)\"}",
        ])
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
    }

    func testAFailingCompensationIsRetriedThenDeadLetteredWithTheSagaIDAndItsLog() async throws {
        let (conn, q, running, producer, _) = try await start()
        let wf = Workflow.saga(try .job(SagaStep(n: 1), compensation: try WorkflowJob(Undo(n: 1))),
                               try .job(SagaStep(n: 2), compensation: try WorkflowJob(Undo(n: 2, fail: true))),
                               try .job(SagaStep(n: 3, fail: true)), id: "stuck-\(UUID().uuidString.prefix(6))", queue: q.name)
        try await producer.start(wf)
        let ch = try await conn.openChannel()
        var dead: [AMQPDelivery] = []
        try await eventually(timeout: 20) {
            dead += try await drain(WireFormat.deadLetterQueue(for: q.name), on: ch)
            return dead.count >= 2
        }
        let undo = try XCTUnwrap(dead.first { $0.properties.messageID == "\(wf.id).undo-2" })
        let headers = undo.properties.headers ?? [:]
        XCTAssertEqual(headers[WorkflowHeader.workflowID], .string(wf.id))
        XCTAssertEqual(headers[WireFormat.Header.deadReason], .string("exhausted"))
        let itinerary = try Itinerary(header: try XCTUnwrap(headers[WorkflowHeader.itinerary]))
        XCTAssertEqual(itinerary.log.map(\.compensation.name), ["wf-undo"], "step 1's compensation is still to run")
        XCTAssertEqual(itinerary.failure, "step 3 (wf-step) died: JobFailure.permanent: step 3 refused")
        let entries = await log.entries
        XCTAssertEqual(entries.filter { $0.name == "undo" }.map(\.attempt), [1, 2], "retried, then dead; undo 1 not run past it")
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
    }

    func testAMalformedItineraryIsDeadLetteredWithAClearReasonWithoutRunning() async throws {
        let (conn, q, running, producer, _) = try await start()
        var options = EnqueueOptions(queue: q.name, jobID: "bad-itinerary")
        options.headers[WorkflowHeader.itinerary] = .string(#"{"id": "W", "kind": "chain", "step": 1"#)
        try await producer.enqueue(Count(start: 1), options: options)
        let ch = try await conn.openChannel()
        var dead: [AMQPDelivery] = []
        try await eventually { dead += try await drain(WireFormat.deadLetterQueue(for: q.name), on: ch); return !dead.isEmpty }
        let headers = dead.first?.properties.headers ?? [:]
        XCTAssertEqual(headers[WireFormat.Header.deadReason], .string("undecodable"))
        XCTAssertTrue(headers[WireFormat.Header.errorMessage]?.stringValue?.contains("header 'warren-workflow' is not a valid itinerary: not JSON") == true,
                      "\(headers[WireFormat.Header.errorMessage] ?? .void)")
        let ran = await log.entries.count
        XCTAssertEqual(ran, 0)
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
    }

    func testAGroupIsOneConfirmedBatchOfJobs() async throws {
        let (conn, q, running, producer, _) = try await start()
        let id = try await producer.start(Workflow.group((1...20).map { try! .job(Count(start: $0)) }, id: "g-\(UUID().uuidString.prefix(6))", queue: q.name))
        let done = await log.wait { $0.count >= 20 }
        XCTAssertTrue(done)
        let entries = await log.entries
        XCTAssertEqual(Set(entries.map(\.id)), Set((1...20).map { "\(id).1.\($0)" }))
        XCTAssertEqual(Set(entries.map(\.note)), Set((1...20).map(String.init)))
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
    }

    /// A step published twice (its predecessor ran twice after a kill) runs once in a worker that
    /// completed it: the rest of the chain is not duplicated.
    func testASecondCopyOfACompletedStepIsAckedWithoutRunning() async throws {
        let (conn, q, running, producer, workflows) = try await start()
        let wf = Workflow.chain(try .job(Count(start: 1)), try .job(Count(start: nil)), try .job(Count(start: nil)),
                                id: "dup-\(UUID().uuidString.prefix(6))", queue: q.name)
        try await producer.start(wf)
        let done = await log.wait { $0.count >= 3 }
        XCTAssertTrue(done)
        // The copy step 1 would publish again: step 2, same id, same itinerary.
        let again = try WorkflowAdvance.afterSuccess(try XCTUnwrap(wf.firstJobs().first).itinerary, result: Array("2".utf8), queue: q.name)
        try await producer.enqueue(try again[0].request())
        try await eventually { workflows.skippedDuplicates == 1 }
        try await Task.sleep(for: .milliseconds(300))
        let count = await log.entries.count
        XCTAssertEqual(count, 3, "neither step 2 nor step 3 ran again")
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
    }
}
