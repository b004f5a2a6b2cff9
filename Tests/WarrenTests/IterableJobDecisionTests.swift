import Foundation
@testable import Warren
import WarrenAMQP
import XCTest

/// The decisions about iterable jobs, without a broker: an attempt cut short (time limit, shutdown) after
/// progress is an interruption carrying its cursor; without progress, or for any other ending, the usual rules.
final class IterableJobDecisionTests: XCTestCase {
    private struct Boom: Error {}
    private let cursor = Array("41".utf8)
    private var decision: JobDecision {
        JobDecision(maxMessageBytes: 1000, defaultRetry: RetryPolicy(maxAttempts: 3, backoff: Backoff(base: .seconds(1), cap: .seconds(4), jitter: 0)))
    }

    private func after(_ result: AttemptResult, attempt: Int = 1, shuttingDown: Bool = false, cursor: [UInt8]?) -> Disposition {
        var r = JobRegistry()
        r.register(name: "job") { _, _ in }
        var e = JobEnvelope(name: "job", id: "id-1", queue: "q", arguments: Array("{}".utf8), enqueuedAt: Date(timeIntervalSince1970: 0))
        e.attempt = attempt
        return decision.afterAttempt(result, envelope: e, definition: r["job"]!, shuttingDown: shuttingDown, jitter: 0, cursor: cursor)
    }

    func testTimeLimitAfterProgressIsAnInterruptionAtTheCursorEvenOnTheLastAttempt() {
        XCTAssertEqual(after(.timedOut(.seconds(1)), cursor: cursor), .interrupt(cursor: cursor))
        XCTAssertEqual(after(.timedOut(.seconds(1)), attempt: 3, cursor: cursor), .interrupt(cursor: cursor),
                       "an interruption is not a failed attempt: it does not exhaust the job")
        XCTAssertEqual(after(.timedOut(.seconds(1)), shuttingDown: true, cursor: cursor), .interrupt(cursor: cursor))
    }

    func testShutdownAfterProgressIsAnInterruptionAtTheCursor() {
        XCTAssertEqual(after(.failed(CancellationError()), shuttingDown: true, cursor: cursor), .interrupt(cursor: cursor))
        XCTAssertEqual(after(.failed(Boom()), attempt: 3, shuttingDown: true, cursor: cursor), .interrupt(cursor: cursor))
    }

    func testWithoutProgressTheUsualRulesApply() {
        guard case .retry(2, _, let failure) = after(.timedOut(.seconds(1)), cursor: nil) else {
            return XCTFail("an attempt that finished no item within its time limit failed: else a too-long item loops forever")
        }
        XCTAssertEqual(failure.type, "timeout")
        guard case .deadLetter(.exhausted, _) = after(.timedOut(.seconds(1)), attempt: 3, cursor: nil) else { return XCTFail() }
        XCTAssertEqual(after(.failed(CancellationError()), shuttingDown: true, cursor: nil), .leave)
    }

    func testSuccessAndFailuresAfterProgressAreNotInterruptions() {
        XCTAssertEqual(after(.succeeded(.none), cursor: cursor), .ack)
        XCTAssertEqual(after(.succeeded(.none), shuttingDown: true, cursor: cursor), .ack)
        guard case .retry(2, _, _) = after(.failed(Boom()), cursor: cursor) else { return XCTFail("a failed item fails the attempt") }
        guard case .deadLetter(.exhausted, _) = after(.failed(Boom()), attempt: 3, cursor: cursor) else { return XCTFail() }
        guard case .deadLetter(.nonRetryable, _) = after(.failed(JobFailure.permanent("no")), cursor: cursor) else { return XCTFail() }
    }

    func testInterruptionIsSettledAsItsOwnOutcome() {
        XCTAssertEqual(Disposition.interrupt(cursor: cursor).outcome, .interrupted)
    }
}
