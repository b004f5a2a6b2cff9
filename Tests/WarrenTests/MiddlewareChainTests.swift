import Logging
import Synchronization
@testable import Warren
import WarrenAMQP
import XCTest

/// The middleware chain leaves a header-gated middleware out for a message without its headers, in the
/// attempt and in the settlement (awaited or started without a task), and keeps the order of those that run.
final class MiddlewareChainTests: XCTestCase {
    /// Gated by `gatingHeaders`.
    private struct Probe: Recording, HeaderGatedMiddleware {
        let name: String
        let gatingHeaders: [String]
        let events: SharedEvents
        init(_ name: String, gatedBy headers: [String], _ events: SharedEvents) {
            (self.name, self.gatingHeaders, self.events) = (name, headers, events)
        }
    }

    /// Runs for every message (not gated).
    private struct Always: Recording {
        let name = "always"
        let events: SharedEvents
    }

    private func chain(_ events: SharedEvents) -> MiddlewareChain {
        MiddlewareChain(middlewares: [
            Probe("a", gatedBy: ["x-a"], events), Always(events: events), Probe("b", gatedBy: ["x-b", "x-b2"], events),
        ])
    }

    func testMembersAreTheUngatedAndThoseWhoseHeaderTheMessageCarries() {
        let chain = chain(SharedEvents())
        let positions = { (headers: FieldTable) in (0..<3).filter { chain.members(for: headers).contains($0) } }
        XCTAssertEqual(positions([:]), [1])
        XCTAssertEqual(positions(["other": .string("1"), "warren-attempt": .int32(2)]), [1])
        XCTAssertEqual(positions(["x-a": .string("1")]), [0, 1])
        XCTAssertEqual(positions(["x-b2": .bool(true), "other": .void]), [1, 2])
        XCTAssertEqual(positions(["x-a": .void, "x-b": .void]), [0, 1, 2])
        XCTAssertTrue(chain.anyRuns(chain.members(for: [:])))
        let gatedOnly = MiddlewareChain(middlewares: [Probe("a", gatedBy: ["x-a"], SharedEvents())])
        XCTAssertFalse(gatedOnly.anyRuns(gatedOnly.members(for: [:])))
        XCTAssertFalse(gatedOnly.anyRuns(gatedOnly.members(for: ["x-b": .void])))
        XCTAssertTrue(gatedOnly.anyRuns(gatedOnly.members(for: ["x-a": .void])))
    }

    func testAGatedMiddlewareIsLeftOutOfAttemptAndSettlementWithoutItsHeader() async throws {
        let connection = try await JobsBroker.connect()
        let producer = try await JobProducer(connection: connection)
        for (headers, expected) in [
            ([:], ["always"]),
            (["x-b": FieldValue.string("1")], ["always", "b"]),
            (["x-a": FieldValue.string("1"), "x-b2": .void], ["a", "always", "b"]),
        ] as [(FieldTable, [String])] {
            let events = SharedEvents()
            let chain = chain(events)
            let context = JobContext(jobID: "j", jobName: "n", queue: "q", attempt: 1, maxAttempts: 3, redelivered: false,
                                     enqueuedAt: nil, traceparent: nil, logger: Logger(label: "test"), producer: producer,
                                     progressReporter: nil)
            let result = try await chain.run(JobAttempt(context: context, arguments: [], headers: headers)) { _ in
                events.add("job")
                return JobResult(json: Array("7".utf8))
            }
            XCTAssertEqual(result.json, Array("7".utf8))
            let settlement = JobSettlement(jobID: "j", jobName: "n", queue: "q", attempt: 1, disposition: .ack, result: result,
                                           headers: headers)
            let error = await chain.willSettle(settlement)
            XCTAssertNil(error)
            let started = Mutex<Int>(0)
            chain.startSettling(settlement) { error in
                XCTAssertNil(error)
                started.withLock { $0 += 1 }
            }
            XCTAssertEqual(started.withLock { $0 }, 1, "every middleware answered .done: completed at once")
            let innermostFirst = Array(expected.reversed())
            XCTAssertEqual(events.all, expected.map { "\($0) handle" } + ["job"] + innermostFirst.map { "\($0) willSettle" }
                           + innermostFirst.map { "\($0) startSettling" }, "headers \(headers.keys.sorted())")
        }
        await connection.close()
    }
}

/// A test middleware recording its calls under its name.
private protocol Recording: JobMiddleware {
    var name: String { get }
    var events: SharedEvents { get }
}

extension Recording {
    func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        events.add("\(name) handle")
        return try await next(attempt)
    }

    func willSettle(_ settlement: JobSettlement) async { events.add("\(name) willSettle") }

    func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) -> SettlementStart {
        events.add("\(name) startSettling")
        return .done
    }
}
