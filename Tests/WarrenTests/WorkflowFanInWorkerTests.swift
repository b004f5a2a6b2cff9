import Foundation
import Warren
import WarrenAMQP
import WarrenStore
import XCTest

private struct Part: JobParameters {
    static let jobName = "fi-part"
    var n: Int
    var die: Bool?
    var sleepMS: Int?
}

/// A chain with a group in the middle, and nested batches, on a real broker, run by a worker with the
/// workflow and batch middleware over each real store backend (SQLite and PostgreSQL).
final class WorkflowFanInWorkerTests: XCTestCase {
    private var log: JobLog!

    /// Every job logs "<name>" with its previous result as note.
    private func registry() -> JobRegistry {
        var r = JobRegistry()
        let log = self.log!
        r.register(Part.self) { args, ctx -> Int in
            if let ms = args.sleepMS { try await Task.sleep(for: .milliseconds(ms)) }
            await log.add("part", ctx, note: String(decoding: ctx.previousResult ?? [], as: UTF8.self))
            if args.die == true { throw JobFailure.permanent("part \(args.n) refused") }
            return args.n
        }
        r.register(name: "fi-alert") { _, ctx in await log.add("alert", ctx, note: String(decoding: ctx.previousResult ?? [], as: UTF8.self)) }
        r.register(name: "fi-callback") { _, ctx in await log.add("callback", ctx) }
        return r
    }

    private func run(ledger: (any BatchLedger)?, _ body: (Topology.Queue, JobProducer, AMQPConnection) async throws -> Void) async throws {
        log = JobLog()
        try await withBatchWorker("fanin", ledger: ledger, registry: registry(), body)
    }

    private func chain(_ q: Topology.Queue, _ prefix: String, dying: Set<Int> = []) throws -> Workflow {
        Workflow.chain(try .job(Part(n: 1)), .group(try (2...4).map { try .job(Part(n: $0, die: dying.contains($0), sleepMS: 50 * $0)) }),
                       try .job(Part(n: 5)), try .job(Part(n: 6)), id: StoreBackends.id(prefix), onFailure: WorkflowJob(name: "fi-alert"),
                       queue: q.name)
    }

    /// a, then b, c, d of the group, then e once after all three succeeded (seeing the group's summary), then f.
    func testAGroupMidChainRunsTheNextStepOnceAfterEveryJobOfTheGroup() async throws {
        try await StoreBackends.each { backend, store, _ in
            try await run(ledger: store.batchLedger) { q, producer, _ in
                let wf = try chain(q, "mid")
                try await producer.start(wf, ledger: store.batchLedger)
                let done = await log.wait(timeout: 60) { $0.contains { $0.id == "\(wf.id).4" } }
                XCTAssertTrue(done, backend)
                try await Task.sleep(for: .milliseconds(500))  // a second continuation would show here
                let entries = await log.entries
                XCTAssertEqual(entries.map(\.id).filter { !$0.contains(".2.") }, ["\(wf.id).1", "\(wf.id).3", "\(wf.id).4"], backend)
                XCTAssertEqual(Set(entries.map(\.id).filter { $0.contains(".2.") }), ["\(wf.id).2.1", "\(wf.id).2.2", "\(wf.id).2.3"], backend)
                let groupEnd = try XCTUnwrap(entries.filter { $0.id.contains(".2.") }.map(\.at).max())
                XCTAssertLessThanOrEqual(groupEnd, try XCTUnwrap(entries.first { $0.id == "\(wf.id).3" }?.at), "\(backend): after the whole group")
                XCTAssertEqual(entries.first { $0.id == "\(wf.id).3" }?.note, #"{"batch":"\#(wf.id).2","children":3}"#, backend)
                XCTAssertEqual(entries.first { $0.id == "\(wf.id).4" }?.note, "5", "\(backend): the chain goes on with results")
                XCTAssertEqual(entries.filter { $0.id.hasPrefix("\(wf.id).2.") }.map(\.note), ["1", "1", "1"], "\(backend): children see a's result")
            }
        }
    }

    /// Two jobs of the group die: the on-failure job runs once; the step after the group never.
    func testAGroupJobDyingRunsTheOnFailureJobOnceAndNeverTheNextStep() async throws {
        try await StoreBackends.each { backend, store, _ in
            try await run(ledger: store.batchLedger) { q, producer, _ in
                let wf = try chain(q, "die", dying: [2, 4])
                try await producer.start(wf, ledger: store.batchLedger)
                let done = await log.wait(timeout: 60) { $0.contains { $0.name == "alert" } && $0.filter { $0.id.contains(".2.") }.count == 3 }
                XCTAssertTrue(done, backend)
                try await Task.sleep(for: .milliseconds(500))
                let entries = await log.entries
                XCTAssertEqual(entries.filter { $0.name == "alert" }.map(\.id), ["\(wf.id).on-failure"], "\(backend): once")
                XCTAssertFalse(entries.contains { $0.id == "\(wf.id).3" || $0.id == "\(wf.id).4" }, "\(backend): the chain stopped")
                XCTAssertTrue(entries.first { $0.name == "alert" }?.note.contains("a job of group step 2") == true, backend)
            }
        }
    }

    /// The opener of a group's batch running again after the batch completed (a second copy of the step
    /// before it, or `start` again) publishes nothing again: the batch is sealed, its callbacks enqueued.
    func testOpeningACompletedGroupAgainRunsNothingAgain() async throws {
        try await StoreBackends.each { backend, store, _ in
            try await run(ledger: store.batchLedger) { q, producer, _ in
                let wf = Workflow.chain(.group(try (1...3).map { try .job(Part(n: $0)) }), try .job(Part(n: 9)), id: StoreBackends.id("again"),
                                        queue: q.name)
                try await producer.start(wf, ledger: store.batchLedger)
                let done = await log.wait(timeout: 60) { $0.contains { $0.id == "\(wf.id).2" } }
                XCTAssertTrue(done, backend)
                try await producer.start(wf, ledger: store.batchLedger)
                try await Task.sleep(for: .milliseconds(800))  // anything published again would run here
                let ids = await log.entries.map(\.id)
                XCTAssertEqual(ids.sorted(), ["\(wf.id).1.1", "\(wf.id).1.2", "\(wf.id).1.3", "\(wf.id).2"], backend)
            }
        }
    }

    /// Without a store: starting is refused naming WARREN_STORE; a worker without one dead-letters the step
    /// before the group (its successor cannot be opened) naming the setting.
    func testWithoutAStoreAGroupMidChainIsRefusedNamingTheSetting() async throws {
        try await run(ledger: nil) { q, producer, conn in
            let wf = try chain(q, "nostore")
            do { try await producer.start(wf); XCTFail("started without a store") } catch let error as WarrenError {
                XCTAssertTrue(error.message.contains("WARREN_STORE"), error.message)
            }
            do { try await producer.start(wf, ledger: nil); XCTFail("started without a store") } catch let error as StoreError {
                XCTAssertEqual(error.code, .notConfigured)
            }
            try await Task.sleep(for: .milliseconds(500))  // a job published anyway would run here
            let ran = await log.entries.count
            XCTAssertEqual(ran, 0, "refused before publishing anything")
            // Published by a store-less producer's predecessor anyway (its first step alone):
            try await producer.enqueue(try XCTUnwrap(wf.firstJobs().first).request())
            let dead = try await deadLetter(q, conn)
            XCTAssertEqual(dead.properties.messageID, "\(wf.id).1")
            let headers = dead.properties.headers ?? [:]
            XCTAssertEqual(headers[WireFormat.Header.deadReason], .string("non-retryable"))
            XCTAssertTrue(headers[WireFormat.Header.errorMessage]?.stringValue?.contains("WARREN_STORE") == true,
                          "\(headers[WireFormat.Header.errorMessage] ?? .void)")
        }
    }

    /// A continuation whose itinerary is malformed is dead-lettered `undecodable` with the reason, unrun.
    func testAMalformedContinuationIsDeadLetteredWithAReason() async throws {
        try await run(ledger: nil) { q, producer, conn in
            var options = EnqueueOptions(queue: q.name, jobID: "bad-continuation")
            options.headers[WorkflowHeader.batchCallback] = .string("W.2")
            options.headers[WorkflowHeader.itinerary] =
                .string(#"{"id":"W","kind":"chain","step":3,"steps":5,"next":[{"group":[{"job":"b"}]},{"group":[{"job":"c"}]}]}"#)
            try await producer.enqueue(Part(n: 3), options: options)
            let headers = try await deadLetter(q, conn).properties.headers ?? [:]
            XCTAssertEqual(headers[WireFormat.Header.deadReason], .string("undecodable"))
            XCTAssertTrue(headers[WireFormat.Header.errorMessage]?.stringValue?.contains("a group right after a group") == true,
                          "\(headers[WireFormat.Header.errorMessage] ?? .void)")
            let ran = await log.entries.count
            XCTAssertEqual(ran, 0)
        }
    }

    /// An outer batch of one job and a nested batch of three slower jobs: the outer success fires once,
    /// after the nested batch completed (its last child), and the nested batch's own callback ran first.
    func testANestedBatchCompletesItsParentOnlyAfterItsChildren() async throws {
        try await StoreBackends.each { backend, store, _ in
            try await run(ledger: store.batchLedger) { q, producer, _ in
                let inner = Workflow.batch(try (1...3).map { try .job(Part(n: $0, sleepMS: 200)) }, onComplete: WorkflowJob(name: "fi-callback"),
                                           queue: q.name)
                let outer = Workflow.batch([try .job(Part(n: 0))], batches: [inner], id: StoreBackends.id("nest"),
                                           onSuccess: WorkflowJob(name: "fi-callback"), queue: q.name)
                let id = try await producer.start(outer, ledger: store.batchLedger)
                let done = await log.wait(timeout: 60) { $0.contains { $0.id == "\(id).success" } }
                XCTAssertTrue(done, backend)
                try await Task.sleep(for: .milliseconds(500))
                let entries = await log.entries
                XCTAssertEqual(entries.filter { $0.name == "callback" }.map(\.id).sorted(), ["\(id).2.complete", "\(id).success"], backend)
                XCTAssertEqual(Set(entries.filter { $0.name == "part" }.map(\.id)), ["\(id).1", "\(id).2.1", "\(id).2.2", "\(id).2.3"], backend)
                let lastInner = try XCTUnwrap(entries.filter { $0.id.hasPrefix("\(id).2.") && $0.name == "part" }.map(\.at).max())
                XCTAssertLessThanOrEqual(lastInner, try XCTUnwrap(entries.first { $0.id == "\(id).success" }?.at), backend)
            }
        }
    }

    private func deadLetter(_ q: Topology.Queue, _ conn: AMQPConnection) async throws -> AMQPDelivery {
        let ch = try await conn.openChannel()
        var dead: [AMQPDelivery] = []
        try await eventually(timeout: 20) { dead += try await drain(WireFormat.deadLetterQueue(for: q.name), on: ch); return !dead.isEmpty }
        await ch.close()
        return try XCTUnwrap(dead.first)
    }
}
