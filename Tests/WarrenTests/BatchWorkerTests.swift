import Foundation
import Warren
import WarrenAMQP
import WarrenStore
import XCTest

private struct Child: JobParameters {
    static let jobName = "bt-child"
    var die: Bool?
    var spawn: Int?
}

/// Batches on a real broker, run by a worker with the batch middleware over each real store backend.
final class BatchWorkerTests: XCTestCase {
    private var log: JobLog!

    /// Children log and may die (permanently) or add `spawn` children; callbacks log.
    private func registry() -> JobRegistry {
        var r = JobRegistry()
        let log = self.log!
        r.register(Child.self) { args, ctx in
            await log.add("child", ctx)
            if args.die == true { throw JobFailure.permanent("planned death") }
            if let n = args.spawn, let batch = BatchMembership.current {
                try await batch.add((0..<n).map { _ in WorkflowJob(name: Child.jobName) })
            }
        }
        r.register(name: "bt-callback") { _, ctx in await log.add("callback", ctx) }
        return r
    }

    private func run(ledger: (any BatchLedger)?, _ body: (Topology.Queue, JobProducer, AMQPConnection) async throws -> Void) async throws {
        log = JobLog()
        try await withBatchWorker("batch", ledger: ledger, registry: registry(), body)
    }

    private let callbacks = (success: WorkflowJob(name: "bt-callback"), complete: WorkflowJob(name: "bt-callback"),
                             death: WorkflowJob(name: "bt-callback"))

    /// 3 of 60 children die: `death` once, `complete` once after every child, `success` never.
    func testThreeOfSixtyDieDeathOnceCompleteOnceAfterTheRestSuccessNever() async throws {
        try await StoreBackends.each { backend, store, _ in
            try await run(ledger: store.batchLedger) { q, producer, _ in
                let children = try (1...60).map { try WorkflowStep.job(Child(die: [7, 30, 59].contains($0))) }
                let batch = Workflow.batch(children, id: StoreBackends.id("b3"), onSuccess: callbacks.success, onComplete: callbacks.complete,
                                           onDeath: callbacks.death, queue: q.name)
                let id = try await producer.start(batch, ledger: store.batchLedger)
                let done = await log.wait(timeout: 60) { $0.contains { $0.id == "\(id).complete" } }
                XCTAssertTrue(done, backend)
                try await Task.sleep(for: .milliseconds(500))  // a stray callback would show here
                let entries = await log.entries
                XCTAssertEqual(entries.filter { $0.name == "callback" }.map(\.id).sorted(), ["\(id).complete", "\(id).death"], backend)
                let lastChild = try XCTUnwrap(entries.filter { $0.name == "child" }.map(\.at).max())
                XCTAssertLessThanOrEqual(lastChild, try XCTUnwrap(entries.first { $0.id == "\(id).complete" }?.at), "\(backend): complete after every child")
                XCTAssertEqual(Set(entries.filter { $0.name == "child" }.map(\.id)), Set(batch.childIDs), backend)
            }
        }
    }

    /// A child adds children while it runs: `success` fires once, after the added children too.
    func testChildrenAddedWhileTheBatchIsOpenAreWaitedFor() async throws {
        try await StoreBackends.each { backend, store, _ in
            try await run(ledger: store.batchLedger) { q, producer, _ in
                let batch = Workflow.batch([try .job(Child(spawn: 5)), try .job(Child())], id: StoreBackends.id("spawn"),
                                           onSuccess: callbacks.success, queue: q.name)
                let id = try await producer.start(batch, ledger: store.batchLedger)
                let done = await log.wait(timeout: 60) { $0.contains { $0.id == "\(id).success" } }
                XCTAssertTrue(done, backend)
                try await Task.sleep(for: .milliseconds(300))
                let entries = await log.entries
                let children = entries.filter { $0.name == "child" }
                XCTAssertEqual(Set(children.map(\.id)), Set(batch.childIDs + (1...5).map { "\(id).1.\($0)" }), backend)
                XCTAssertLessThanOrEqual(try XCTUnwrap(children.map(\.at).max()), try XCTUnwrap(entries.first { $0.id == "\(id).success" }?.at), backend)
                XCTAssertEqual(entries.filter { $0.name == "callback" }.count, 1, backend)
            }
        }
    }

    /// A child whose batch header is not a batch id is dead-lettered `undecodable`, without running.
    func testAMalformedBatchHeaderIsDeadLetteredWithAReasonWithoutRunning() async throws {
        let path = StoreBackends.sqlitePath()
        let store = try await SQLiteStore.open(path: path, logger: quietLogger("test.store"))
        try await run(ledger: store.batchLedger) { q, producer, conn in
            var options = EnqueueOptions(queue: q.name, jobID: "bad-batch")
            options.headers[WorkflowHeader.batch] = .int32(7)
            try await producer.enqueue(Child(), options: options)
            let headers = try await deadLetterHeaders(q, conn)
            XCTAssertEqual(headers[WireFormat.Header.deadReason], .string("undecodable"))
            XCTAssertTrue(headers[WireFormat.Header.errorMessage]?.stringValue?.contains("header 'warren-batch' must be a batch id") == true,
                          "\(headers[WireFormat.Header.errorMessage] ?? .void)")
            let ran = await log.entries.count
            XCTAssertEqual(ran, 0)
            // A batch id the store never saw: the child runs, then is dead-lettered saying so (not retried).
            options = EnqueueOptions(queue: q.name, jobID: "stray")
            options.headers[WorkflowHeader.batch] = .string("no-such-batch")
            try await producer.enqueue(Child(), options: options)
            let stray = try await deadLetterHeaders(q, conn)
            XCTAssertEqual(stray[WireFormat.Header.deadReason], .string("non-retryable"))
            XCTAssertTrue(stray[WireFormat.Header.errorMessage]?.stringValue?.contains("batch no-such-batch is unknown") == true,
                          "\(stray[WireFormat.Header.errorMessage] ?? .void)")
        }
        await store.close()
    }

    /// A worker without a store dead-letters batch children (naming WARREN_STORE) rather than run them unrecorded.
    func testAWorkerWithoutAStoreDeadLettersBatchChildrenNamingTheSetting() async throws {
        try await run(ledger: nil) { q, producer, conn in
            var options = EnqueueOptions(queue: q.name, jobID: "orphan")
            options.headers[WorkflowHeader.batch] = .string("some-batch")
            try await producer.enqueue(Child(), options: options)
            let headers = try await deadLetterHeaders(q, conn)
            XCTAssertEqual(headers[WireFormat.Header.deadReason], .string("non-retryable"))
            XCTAssertTrue(headers[WireFormat.Header.errorMessage]?.stringValue?.contains("WARREN_STORE") == true)
            let ran = await log.entries.count
            XCTAssertEqual(ran, 0)
        }
    }

    /// Starting a batch without a ledger is refused naming the setting.
    func testStartingABatchWithoutAStoreIsRefused() async throws {
        try await run(ledger: nil) { q, producer, _ in
            do {
                try await producer.start(Workflow.batch([.job("bt-child")], onSuccess: callbacks.success, queue: q.name), ledger: nil)
                XCTFail("started without a store")
            } catch let error as StoreError {
                XCTAssertEqual(error.code, .notConfigured)
                XCTAssertTrue(error.message.contains("WARREN_STORE"))
            }
        }
    }

    private func deadLetterHeaders(_ q: Topology.Queue, _ conn: AMQPConnection) async throws -> FieldTable {
        let ch = try await conn.openChannel()
        var dead: [AMQPDelivery] = []
        try await eventually { dead += try await drain(WireFormat.deadLetterQueue(for: q.name), on: ch); return !dead.isEmpty }
        await ch.close()
        return dead.first?.properties.headers ?? [:]
    }
}
