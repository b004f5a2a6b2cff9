import Foundation
import Synchronization
import Warren
import WarrenAMQP
import WarrenStore
import XCTest

/// A real store's ledger that fails recording the success of one child, `times` times, as a store outage
/// would; everything else goes to the store.
private final class FailingSuccessLedger: BatchLedger {
    struct Outage: Error, CustomStringConvertible {
        var description: String { "store unavailable (planned)" }
    }

    let base: any BatchLedger
    let child: String
    private let left: Mutex<Int>
    private let failed = Mutex(0)

    init(_ base: any BatchLedger, failing child: String, times: Int) {
        self.base = base
        self.child = child
        self.left = Mutex(times)
    }

    /// How many recordings failed.
    var failures: Int { failed.withLock { $0 } }

    func finish(child: String, in batch: String, outcome: ChildOutcome) async throws -> BatchSnapshot {
        let fail = child == self.child && outcome == .succeeded && left.withLock { n in
            guard n > 0 else { return false }
            n -= 1
            return true
        }
        if fail {
            failed.withLock { $0 += 1 }
            throw Outage()
        }
        return try await base.finish(child: child, in: batch, outcome: outcome)
    }

    func open(_ batch: BatchDefinition) async throws { try await base.open(batch) }
    func add(children: [String], to batch: String) async throws { try await base.add(children: children, to: batch) }
    func seal(_ batch: String) async throws -> BatchSnapshot { try await base.seal(batch) }
    func claim(_ callback: BatchCallback, of batch: String, by claimant: String, at now: ContinuousClock.Instant,
               lease: Duration) async throws -> BatchClaim {
        try await base.claim(callback, of: batch, by: claimant, at: now, lease: lease)
    }
    func enqueued(_ callback: BatchCallback, of batch: String) async throws { try await base.enqueued(callback, of: batch) }
    func claimParentNotice(of batch: String, by claimant: String, at now: ContinuousClock.Instant,
                           lease: Duration) async throws -> BatchClaim {
        try await base.claimParentNotice(of: batch, by: claimant, at: now, lease: lease)
    }
    func parentNotified(of batch: String) async throws { try await base.parentNotified(of: batch) }
    func snapshot(_ batch: String) async throws -> BatchSnapshot? { try await base.snapshot(batch) }
}

/// A batch child's success is recorded as its delivery is settled (``BatchMiddleware/startSettling(_:completion:)``), off
/// the worker's runners: a failure to record it must fail the attempt, never ack the child unrecorded.
final class BatchSettlementTests: XCTestCase {
    private static let quick = Backoff(base: .milliseconds(20), cap: .milliseconds(20), jitter: 0)

    /// `bs-child` is retried (3 attempts), `bs-once` is not; both log; callbacks log.
    private func registry(_ log: JobLog) -> JobRegistry {
        var r = JobRegistry()
        r.register(name: "bs-child", retry: RetryPolicy(maxAttempts: 3, backoff: Self.quick)) { _, ctx in await log.add("child", ctx) }
        r.register(name: "bs-once", retry: .never) { _, ctx in await log.add("child", ctx) }
        r.register(name: "bs-callback") { _, ctx in await log.add("callback", ctx) }
        return r
    }

    /// The store fails once as child 2 of 3 succeeds: that child is not acked but retried (attempt 2), then
    /// recorded; `success` runs once, after it, and the ledger counts 3 succeeded.
    func testAFailureToRecordAChildsSuccessRetriesTheChildInsteadOfAckingIt() async throws {
        try await StoreBackends.each { backend, store, _ in
            let log = JobLog()
            let id = StoreBackends.id("bs-retry")
            let real = try XCTUnwrap(store.batchLedger)
            let ledger = FailingSuccessLedger(real, failing: "\(id).2", times: 1)
            try await withBatchWorker("bsettle", ledger: ledger, registry: registry(log)) { q, producer, _ in
                let batch = Workflow.batch((1...3).map { _ in .job("bs-child") }, id: id, onSuccess: WorkflowJob(name: "bs-callback"), queue: q.name)
                try await producer.start(batch, ledger: real)
                let done = await log.wait(timeout: 30) { $0.contains { $0.id == "\(id).success" } }
                XCTAssertTrue(done, "\(backend): the batch completed")
                XCTAssertEqual(ledger.failures, 1, backend)
                let (second, first) = (await log.attempts("\(id).2"), await log.attempts("\(id).1"))
                XCTAssertEqual(second, [1, 2], "\(backend): retried, not acked")
                XCTAssertEqual(first, [1], backend)
                let snapshot = try await real.snapshot(id)
                XCTAssertEqual(snapshot?.succeeded, 3, backend)
                XCTAssertEqual(snapshot?.pending, 0, backend)
                let callbackAt = await log.ranAt("\(id).success")
                let childAt = await log.entries.filter { $0.id == "\(id).2" }.map(\.at).max()
                XCTAssertLessThanOrEqual(try XCTUnwrap(childAt), try XCTUnwrap(callbackAt), backend)
                let callbacks = await log.count("callback")
                XCTAssertEqual(callbacks, 1, backend)
            }
        }
    }

    /// On its last attempt, a child whose success cannot be recorded is dead-lettered (`exhausted`, naming
    /// the store's error) and recorded dead: `death` runs, nothing is lost.
    func testOnTheLastAttemptAFailureToRecordASuccessDeadLettersTheChildAndRecordsItDead() async throws {
        try await StoreBackends.each { backend, store, _ in
            let log = JobLog()
            let id = StoreBackends.id("bs-dead")
            let real = try XCTUnwrap(store.batchLedger)
            let ledger = FailingSuccessLedger(real, failing: "\(id).1", times: 1)
            try await withBatchWorker("bsettle", ledger: ledger, registry: registry(log)) { q, producer, conn in
                let batch = Workflow.batch([.job("bs-once"), .job("bs-once")], id: id, onDeath: WorkflowJob(name: "bs-callback"), queue: q.name)
                try await producer.start(batch, ledger: real)
                let done = await log.wait(timeout: 30) { $0.contains { $0.id == "\(id).death" } }
                XCTAssertTrue(done, "\(backend): death ran")
                let snapshot = try await real.snapshot(id)
                XCTAssertEqual(snapshot?.dead, 1, backend)
                XCTAssertEqual(snapshot?.succeeded, 1, backend)
                let ch = try await conn.openChannel()
                var dead: [AMQPDelivery] = []
                try await eventually { dead += try await drain(WireFormat.deadLetterQueue(for: q.name), on: ch); return !dead.isEmpty }
                await ch.close()
                let headers = dead.first?.properties.headers ?? [:]
                XCTAssertEqual(headers[WireFormat.Header.deadReason], .string("exhausted"), backend)
                XCTAssertTrue(headers[WireFormat.Header.errorMessage]?.stringValue?.contains("store unavailable") == true, backend)
            }
        }
    }
}
