import Foundation
import Synchronization
import Warren
import WarrenAMQP
import WarrenStore
import XCTest

/// The worker's store middleware and the tracked producer against a real broker and both real stores.
final class JobTrackerTests: XCTestCase {
    struct Sum: JobParameters {
        static let jobName = "store.sum"
        var a: Int
        var b: Int
    }

    struct Steps: JobParameters {
        static let jobName = "store.steps"
        var steps: Int
    }

    struct Doomed: JobParameters { static let jobName = "store.doomed" }

    struct Hold: JobParameters { static let jobName = "store.hold" }

    /// What the `Hold` job sees and records, shared with its handler.
    final class HoldState: Sendable {
        let release = Atomic<Bool>(false)
        let runs = Mutex<[String]>([])
    }

    func registry() -> JobRegistry {
        var r = JobRegistry()
        r.register(Sum.self) { args, _ in ["total": args.a + args.b] }
        r.register(Steps.self) { args, context in
            for i in 0..<args.steps { await context.progress(Double(i + 1) / Double(args.steps), "step \(i + 1)") }
        }
        r.register(Doomed.self) { _, _ in throw JobFailure.permanent("doomed on purpose") }
        return r
    }

    func testLifecycleResultProgressAndDeathAreRecorded() async throws {
        try await StoreBackends.each { backend, store, _ in
            let connection = try await JobsBroker.connect()
            let topology = Topology(queues: [.init(JobsBroker.uniqueQueue("track"))])
            let queue = topology.queues[0].name
            var tracking = JobTrackerConfiguration()
            tracking.progressInterval = .zero
            let (worker, producer) = try await startWorker(connection, topology, registry(),
                                                           middleware: [JobTracker(store: store, configuration: tracking)])
            let tracked = TrackedProducer(producer: producer, store: store)
            let sum = try await tracked.enqueue(Sum(a: 40, b: 2), options: EnqueueOptions(queue: queue)).jobID
            let steps = try await tracked.enqueue(Steps(steps: 4), options: EnqueueOptions(queue: queue)).jobID
            let doomed = try await tracked.enqueue(Doomed(), options: EnqueueOptions(queue: queue)).jobID
            let unknownJob = try await tracked.enqueue(JobRequest(name: "store.nobody", arguments: Array("{}".utf8),
                                                                  options: EnqueueOptions(queue: queue))).jobID
            try await eventually(timeout: 20) {
                var finished = 0
                for id in [sum, steps, doomed, unknownJob] where try await store.status(id).state.isFinished { finished += 1 }
                return finished == 4
            }
            let s = try await store.status(sum)
            XCTAssertEqual(s.state, .succeeded, backend)
            XCTAssertEqual(s.result, "{\"total\":42}", backend)
            XCTAssertEqual(s.queue, queue, backend)
            XCTAssertNotNil(s.worker, backend)
            XCTAssertNotNil(s.startedAt, backend)
            let p = try await store.status(steps)
            XCTAssertEqual(p.progress, 1.0, backend)
            XCTAssertEqual(p.progressMessage, "step 4", backend)
            let d = try await store.status(doomed)
            XCTAssertEqual(d.state, .dead, backend)
            XCTAssertEqual(d.deadReason, DeadLetterReason.nonRetryable.rawValue, backend)
            XCTAssertEqual(d.lastError?.contains("doomed on purpose"), true, backend)
            let u = try await store.status(unknownJob)
            XCTAssertEqual(u.state, .dead, backend)
            XCTAssertEqual(u.deadReason, DeadLetterReason.unknownJob.rawValue, backend)
            try await worker.stop()
            await JobsBroker.cleanUp(topology.queues[0], on: connection)
            await connection.close()
        }
    }

    func testPlainProducerRefusesUniqueNamingTheSetting() async throws {
        let connection = try await JobsBroker.connect()
        let topology = Topology(queues: [.init(JobsBroker.uniqueQueue("nostore"))])
        try await declare(topology, on: connection)
        let producer = try await JobProducer(connection: connection, topology: topology)
        var options = EnqueueOptions(queue: topology.queues[0].name)
        options.unique = .key("k", for: .seconds(60))
        do {
            _ = try await producer.enqueue(Doomed(), options: options)
            XCTFail("a unique job without a store must fail")
        } catch {
            XCTAssertTrue(error.message.contains("WARREN_STORE"), error.message)
        }
        await JobsBroker.cleanUp(topology.queues[0], on: connection)
        await connection.close()
    }

    /// 8 producers (each with its own store connection) enqueue the same unique key 1,000 times each while
    /// its job runs: exactly one job runs; when it dies the key is free, and the next enqueue runs.
    func testEightProducersOneUniqueJobThenFreeAfterDeath() async throws {
        let path = StoreBackends.sqlitePath()
        for backend in ["sqlite", "postgres"] {
            let url = backend == "sqlite" ? StoreURL.sqlite(path: path) : try StoreBackends.postgresURL()
            let hold = HoldState()
            var r = JobRegistry()
            // Holds its key until the test releases it (bounded: 5 minutes), however long the enqueues take.
            r.register(Hold.self, retry: RetryPolicy(maxAttempts: 1), timeout: .seconds(600)) { _, context in
                hold.runs.withLock { $0.append(context.jobID) }
                for _ in 0..<6_000 where !hold.release.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(50)) }
                throw JobFailure.permanent("dies to free the key")
            }
            let workerStore = try await url.open(logger: quietLogger("test.store"))
            let connection = try await JobsBroker.connect()
            let topology = Topology(queues: [.init(JobsBroker.uniqueQueue("uniq"))])
            let queue = topology.queues[0].name
            let (worker, _) = try await startWorker(connection, topology, r, middleware: [JobTracker(store: workerStore)])
            let key = StoreBackends.id("invoice")
            let receipts = try await withThrowingTaskGroup(of: [EnqueueReceipt].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let store = try await url.open(logger: quietLogger("test.store"))
                        let c = try await JobsBroker.connect()
                        let tracked = TrackedProducer(producer: try await JobProducer(connection: c, topology: topology), store: store)
                        var mine: [EnqueueReceipt] = []
                        for _ in 0..<1_000 {
                            mine.append(try await tracked.enqueue(Hold(), options: EnqueueOptions(queue: queue, unique: .key(key, for: .seconds(600)))))
                        }
                        await store.close()
                        await c.close()
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let created = receipts.filter { !$0.existing }
            XCTAssertEqual(created.count, 1, "\(backend): one job enqueued for the key")
            XCTAssertEqual(Set(receipts.map(\.jobID)).count, 1, "\(backend): every duplicate names the holder")
            try await eventually(timeout: 20) { hold.runs.withLock { $0.count } >= 1 }
            hold.release.store(true, ordering: .relaxed)
            let first = created.first?.jobID ?? ""
            try await eventually(timeout: 20) { try await workerStore.status(first).state == .dead }
            let free = try await workerStore.holder(of: key, now: Date())
            XCTAssertNil(free, "\(backend): the dead job released its key")
            let tracked = TrackedProducer(producer: try await JobProducer(connection: connection, topology: topology), store: workerStore)
            let next = try await tracked.enqueue(Hold(), options: EnqueueOptions(queue: queue, unique: .key(key, for: .seconds(600))))
            XCTAssertFalse(next.existing, "\(backend): the key is free again")
            try await eventually(timeout: 20) { try await workerStore.status(next.jobID).state == .dead }
            XCTAssertEqual(hold.runs.withLock { $0 }, [first, next.jobID], "\(backend): exactly one run per holder")
            try await worker.stop()
            await JobsBroker.cleanUp(topology.queues[0], on: connection)
            await connection.close()
            await workerStore.close()
        }
    }
}
