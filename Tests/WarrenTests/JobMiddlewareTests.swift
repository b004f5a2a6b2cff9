import Foundation
import Synchronization
import Warren
import WarrenAMQP
import XCTest

struct TestAnswer: JobParameters {
    static let jobName = "test-answer"
    var fail: Bool
}

/// Records what it sees, under a name, around each attempt and before each settlement.
private final class Recorder: JobMiddleware {
    let name: String
    let events: Mutex<[String]>
    let shared: SharedEvents

    init(_ name: String, _ shared: SharedEvents) {
        self.name = name
        self.events = Mutex([])
        self.shared = shared
    }

    func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        shared.add("\(name) in \(attempt.context.attempt)")
        do {
            let result = try await next(attempt)
            shared.add("\(name) out \(String(decoding: result.json ?? [], as: UTF8.self))")
            return result
        } catch {
            shared.add("\(name) saw \(error)")
            throw error
        }
    }

    func willSettle(_ settlement: JobSettlement) async { record(settlement) }

    func record(_ settlement: JobSettlement) {
        switch settlement.disposition {
        case .ack: shared.add("\(name) settle ack \(String(decoding: settlement.result?.json ?? [], as: UTF8.self))")
        case .retry(let next, _, let failure): shared.add("\(name) settle retry \(next) \(failure.message)")
        case .deadLetter(let reason, _): shared.add("\(name) settle dead \(reason.rawValue)")
        default: shared.add("\(name) settle other")
        }
    }
}

/// A ``Recorder`` told its settlements through ``JobMiddleware/startSettling(_:completion:)``.
private final class StartingRecorder: JobMiddleware {
    let recorder: Recorder

    init(_ name: String, _ shared: SharedEvents) { recorder = Recorder(name, shared) }

    func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        try await recorder.handle(attempt, next: next)
    }

    func willSettle(_ settlement: JobSettlement) async { recorder.record(settlement) }

    func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) -> SettlementStart {
        recorder.record(settlement)
        return .done
    }
}

/// Records successes as a store does, from another thread after a while (``JobMiddleware/startSettling(_:completion:)``),
/// and fails the first, as an outage would; its worker settles off the runners.
private final class FailsFirstAckLater: JobMiddleware {
    private let failed = Mutex(false)
    let shared: SharedEvents

    init(_ shared: SharedEvents) { self.shared = shared }

    var settlementWaitsForIO: Bool { true }

    func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) -> SettlementStart {
        guard case .ack = settlement.disposition else { return .useWillSettle }
        shared.add("store writes ack")
        let fail = failed.withLock { f in defer { f = true }; return !f }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(20)) { completion(fail ? FailsFirstAck.Down() : nil) }
        return .started
    }
}

final class SharedEvents: Sendable {
    private let list = Mutex<[String]>([])
    func add(_ e: String) { list.withLock { $0.append(e) } }
    var all: [String] { list.withLock { $0 } }
}

/// Replaces the job's result, to show a middleware can change what comes out.
private struct Doubler: JobMiddleware {
    func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        let result = try await next(attempt)
        let n = Int(String(decoding: result.json ?? [], as: UTF8.self)) ?? 0
        return JobResult(json: Array("\(n * 2)".utf8))
    }
}

/// Fails to record the first `ack` it is told of, as a store outage would.
final class FailsFirstAck: JobMiddleware {
    struct Down: Error, CustomStringConvertible {
        var description: String { "store down" }
    }

    private let failed = Mutex(false)

    func willSettle(_ settlement: JobSettlement) async throws {
        guard case .ack = settlement.disposition else { return }
        if failed.withLock({ f in defer { f = true }; return !f }) { throw Down() }
    }
}

final class JobMiddlewareTests: XCTestCase {
    /// Runs one `TestAnswer` (returning 21, recorded as "job"; two attempts 20 ms apart) on a worker with
    /// `middleware` (given the events to record into) until the outermost one is told of an `ack`; the events.
    private func runAnsweringTwice(_ prefix: String, middleware: (SharedEvents) -> [any JobMiddleware]) async throws -> [String] {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue(prefix))
        let events = SharedEvents()
        var registry = JobRegistry()
        registry.register(TestAnswer.self, retry: RetryPolicy(maxAttempts: 2, backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(20), jitter: 0))) {
            _, _ -> Int in
            events.add("job")
            return 21
        }
        let (running, producer) = try await startWorker(conn, Topology(queues: [q]), registry, middleware: middleware(events))
        _ = try await producer.enqueue(TestAnswer(fail: false), options: .init(queue: q.name))
        try await eventually { events.all.filter { $0.hasPrefix("outer settle ack") }.count == 1 }
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        return events.all
    }

    /// A middleware that cannot record a success fails the attempt: the retry policy is asked again with its
    /// error; the middlewares inside it (told first) hear the `ack`, then the retry, those outside it only
    /// the retry; the job runs again. The delivery is never acked unrecorded.
    func testAFailureToRecordAnAckFailsTheAttemptAndTheJobIsRetried() async throws {
        let events = try await runAnsweringTwice("middleware-settle") { [Recorder("outer", $0), FailsFirstAck(), Recorder("inner", $0)] }
        XCTAssertEqual(events, [
            "outer in 1", "inner in 1", "job", "inner out 21", "outer out 21",
            "inner settle ack 21",
            "inner settle retry 2 store down", "outer settle retry 2 store down",
            "outer in 2", "inner in 2", "job", "inner out 21", "outer out 21",
            "inner settle ack 21", "outer settle ack 21",
        ])
    }

    /// The same through ``JobMiddleware/startSettling(_:completion:)``, as a store's tracker settles: no task
    /// per job; the first success's record fails later, from another thread, and the job is retried, never
    /// acked unrecorded; the second is acked once recorded, and the middleware outside hears it after.
    func testAFailureToRecordAnAckStartedWithoutATaskFailsTheAttemptToo() async throws {
        let events = try await runAnsweringTwice("middleware-start") {
            [StartingRecorder("outer", $0), FailsFirstAckLater($0), StartingRecorder("inner", $0)]
        }
        XCTAssertEqual(events, [
            "outer in 1", "inner in 1", "job", "inner out 21", "outer out 21",
            "inner settle ack 21", "store writes ack",
            "inner settle retry 2 store down", "outer settle retry 2 store down",
            "outer in 2", "inner in 2", "job", "inner out 21", "outer out 21",
            "inner settle ack 21", "store writes ack", "outer settle ack 21",
        ])
    }

    func testMiddlewaresRunInOrderSeeResultsAndFailuresAndAreToldTheSettlement() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("middleware"))
        let topology = Topology(queues: [q])
        let events = SharedEvents()
        var registry = JobRegistry()
        registry.register(TestAnswer.self, retry: RetryPolicy(maxAttempts: 2, backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(20), jitter: 0))) {
            args, _ -> Int in
            events.add("job")
            if args.fail { throw JobFailure.retryable("boom") }
            return 21
        }
        let (running, producer) = try await startWorker(conn, topology, registry,
                                                        middleware: [Recorder("outer", events), Doubler(), Recorder("inner", events)])

        _ = try await producer.enqueue(TestAnswer(fail: false), options: .init(queue: q.name))
        try await eventually { events.all.contains { $0.hasPrefix("outer settle") } }
        XCTAssertEqual(events.all, [
            "outer in 1", "inner in 1", "job", "inner out 21", "outer out 42",
            "inner settle ack 42", "outer settle ack 42",
        ])

        let before = events.all.count
        _ = try await producer.enqueue(TestAnswer(fail: true), options: .init(queue: q.name))
        try await eventually { events.all.contains("outer settle dead exhausted") }
        XCTAssertEqual(Array(events.all[before...]), [
            "outer in 1", "inner in 1", "job", "inner saw boom", "outer saw boom",
            "inner settle retry 2 boom", "outer settle retry 2 boom",
            "outer in 2", "inner in 2", "job", "inner saw boom", "outer saw boom",
            "inner settle dead exhausted", "outer settle dead exhausted",
        ])

        // A message no job reads is told too, before it is dead-lettered.
        let ch = try await conn.openChannel(confirmWindow: 10)
        _ = try await ch.publish(OutgoingMessage(routingKey: q.name, properties: BasicProperties(contentType: "application/json"),
                                                 body: Array("{}".utf8)))
        try await eventually { events.all.contains("outer settle dead undecodable") }
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
    }
}
