import Foundation
import Synchronization
@testable import Warren
import WarrenStore
import XCTest

/// The tracker's group commits (``StoreWriter``) against a real SQLite store, seen through a store that
/// passes every call on and keeps the batches it wrote.
final class StoreWriterTests: XCTestCase {
    final class Recording: JobStore {
        let inner: any JobStore
        let batches = Mutex<[StoreBatch]>([])
        init(_ inner: any JobStore) { self.inner = inner }

        var location: String { inner.location }
        func migrate() async throws(StoreError) -> (from: Int, to: Int) { try await inner.migrate() }
        func write(_ batch: StoreBatch) async throws(StoreError) {
            try await inner.write(batch)
            batches.withLock { $0.append(batch) }
        }
        func claim(_ key: UniqueJob, for job: JobUpdate) async throws(StoreError) -> UniqueClaim { try await inner.claim(key, for: job) }
        func status(_ id: String) async throws(StoreError) -> JobStatus { try await inner.status(id) }
        func list(_ query: JobQuery) async throws(StoreError) -> [JobStatus] { try await inner.list(query) }
        func holder(of key: String, now: Date) async throws(StoreError) -> String? { try await inner.holder(of: key, now: now) }
        func sweep(_ policy: SweepPolicy, now: Date) async throws(StoreError) -> SweepReport { try await inner.sweep(policy, now: now) }
        func close() async { await inner.close() }

        /// The rows written for job `id`, in commit order.
        func rows(_ id: String) -> [JobUpdate] { batches.withLock { $0.flatMap(\.updates).filter { $0.id == id } } }
    }

    private func running(_ id: String) -> JobUpdate {
        var u = JobUpdate(id: id, state: .running, attempt: 1)
        u.name = "writer.job"
        u.worker = "host:1"
        u.startedAt = u.at
        return u
    }

    /// A job's `running` row lingers while another job's outcome is committed, then goes with its own outcome:
    /// one row, written once, with the fields of both.
    func testShortJobIsOneRowWhileOtherJobsCommit() async throws {
        let store = Recording(try await StoreURL.sqlite(path: StoreBackends.sqlitePath()).open(logger: quietLogger("test.store")))
        let writer = StoreWriter(store: store, retryFor: .seconds(5), linger: .seconds(10), logger: quietLogger("test.writer"))
        let (a, b) = (StoreBackends.id("writer-a"), StoreBackends.id("writer-b"))
        writer.submit(running(a))
        await writer.write(JobUpdate(id: b, state: .succeeded, attempt: 1))
        XCTAssertEqual(store.rows(a).count, 0, "a's running row went with b's commit")
        var done = JobUpdate(id: a, state: .succeeded, attempt: 1)
        done.result = "{\"ok\":true}"
        await writer.write(done)
        XCTAssertEqual(store.rows(a).map(\.state), [.succeeded])
        let status = try await store.status(a)
        XCTAssertEqual(status.state, .succeeded)
        XCTAssertEqual(status.worker, "host:1")
        XCTAssertEqual(status.result, "{\"ok\":true}")
        XCTAssertNotNil(status.startedAt)
        await store.close()
    }

    /// A job that runs longer than the linger has its `running` row committed on its own, then its outcome.
    func testLongJobsRunningRowIsCommittedAfterTheLinger() async throws {
        let store = Recording(try await StoreURL.sqlite(path: StoreBackends.sqlitePath()).open(logger: quietLogger("test.store")))
        let writer = StoreWriter(store: store, retryFor: .seconds(5), linger: .milliseconds(50), logger: quietLogger("test.writer"))
        let a = StoreBackends.id("writer-long")
        writer.submit(running(a))
        var state = JobState.unknown
        for _ in 0..<200 where state != .running {  // bounded: 10 s
            try await Task.sleep(for: .milliseconds(50))
            state = try await store.status(a).state
        }
        XCTAssertEqual(state, .running)
        await writer.write(JobUpdate(id: a, state: .succeeded, attempt: 1))
        XCTAssertEqual(store.rows(a).map(\.state), [.running, .succeeded])
        let status = try await store.status(a).state
        XCTAssertEqual(status, .succeeded)
        await store.close()
    }
}
