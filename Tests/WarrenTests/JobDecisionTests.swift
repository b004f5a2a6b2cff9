import Foundation
@testable import Warren
import WarrenAMQP
import XCTest

/// The worker's decisions, without a broker: every dead-letter reason of docs/wire-format.md that a worker
/// gives (`broker` is the broker's own), every retry boundary, deferral and shutdown.
final class JobDecisionTests: XCTestCase {
    private struct Boom: Error {}
    private struct Fatal: NonRetryableError {}
    private let now = Date(timeIntervalSince1970: 1_800_000_000)
    private let fast = RetryPolicy(maxAttempts: 3, backoff: Backoff(base: .seconds(1), cap: .seconds(4), jitter: 0.5))
    private var decision: JobDecision { JobDecision(maxMessageBytes: 100, defaultRetry: fast) }

    private func definition(retry: RetryPolicy? = nil) -> JobRegistry.Definition {
        var r = JobRegistry()
        r.register(name: "job", retry: retry) { _, _ in }
        return r["job"]!
    }

    private func envelope(attempt: Int = 1, maxAttempts: Int? = nil, runAt: Date? = nil, expiresAt: Date? = nil) -> JobEnvelope {
        var e = JobEnvelope(name: "job", id: "id-1", queue: "q", arguments: Array("{}".utf8), enqueuedAt: now,
                            maxAttempts: maxAttempts, runAt: runAt, expiresAt: expiresAt)
        e.attempt = attempt
        return e
    }

    private func before(_ decoded: Result<JobEnvelope, JobDecodingError>, bytes: Int = 2, registered: Bool = true,
                        at time: Date? = nil) -> Disposition? {
        decision.beforeAttempt(bodyBytes: bytes, decoded: decoded, definition: registered ? definition() : nil,
                               knownJobs: ["a", "b"], now: time ?? now)
    }

    private func reason(_ d: Disposition?) -> DeadLetterReason? {
        if case .deadLetter(let r, _)? = d { return r }
        return nil
    }

    // MARK: before the attempt

    func testReadableDueRegisteredJobRuns() {
        XCTAssertNil(before(.success(envelope())))
    }

    func testOversizedIsCheckedFirst() {
        let d = before(.failure(JobDecodingError("not json")), bytes: 101)
        XCTAssertEqual(reason(d), .oversized)
        guard case .deadLetter(_, let failure)? = d else { return XCTFail() }
        XCTAssertEqual(failure.message, "message body is 101 bytes; the worker limit is 100")
        XCTAssertNil(before(.success(envelope()), bytes: 100), "exactly the limit is accepted")
    }

    func testUnreadableKeepsTheReadersReason() {
        XCTAssertEqual(reason(before(.failure(JobDecodingError("bad json")))), .undecodable)
        XCTAssertEqual(reason(before(.failure(JobDecodingError("chord", reason: .unsupported)))), .unsupported)
        XCTAssertEqual(reason(before(.failure(JobDecodingError("args", reason: .invalidArguments)))), .invalidArguments)
        guard case .deadLetter(_, let failure)? = before(.failure(JobDecodingError("bad json"))) else { return XCTFail() }
        XCTAssertEqual(failure, FailureInfo(type: "undecodable", message: "bad json"))
    }

    func testExpiredBeforeStartIsDeadLetteredEvenIfDeferredOrUnknown() {
        let e = envelope(runAt: now.addingTimeInterval(60), expiresAt: now.addingTimeInterval(-1))
        XCTAssertEqual(reason(before(.success(e), registered: false)), .expired)
        XCTAssertNil(before(.success(envelope(expiresAt: now.addingTimeInterval(1)))), "not yet expired runs")
    }

    func testRunAtInTheFutureIsDeferredByTheRemainingTime() {
        XCTAssertEqual(before(.success(envelope(runAt: now.addingTimeInterval(1.5)))), .defer(delay: .milliseconds(1500)))
        XCTAssertEqual(before(.success(envelope(runAt: now.addingTimeInterval(1.5))), registered: false), .defer(delay: .milliseconds(1500)),
                       "deferral comes before the registry check: the worker that runs it may know the job")
        XCTAssertNil(before(.success(envelope(runAt: now.addingTimeInterval(0.001)))), "within the 2 ms tolerance it runs now")
        XCTAssertNil(before(.success(envelope(runAt: now.addingTimeInterval(-10)))), "past due runs")
    }

    func testUnknownJobNamesTheKnownOnes() {
        guard case .deadLetter(.unknownJob, let failure)? = before(.success(envelope()), registered: false) else { return XCTFail() }
        XCTAssertEqual(failure.message, "no job named 'job' is registered on this worker (known: a, b)")
    }

    // MARK: after the attempt

    private func after(_ result: AttemptResult, attempt: Int = 1, maxAttempts: Int? = nil, retry: RetryPolicy? = nil,
                       shuttingDown: Bool = false, jitter: Double = 0) -> Disposition {
        decision.afterAttempt(result, envelope: envelope(attempt: attempt, maxAttempts: maxAttempts),
                              definition: definition(retry: retry), shuttingDown: shuttingDown, jitter: jitter)
    }

    func testSuccessAcks() {
        XCTAssertEqual(after(.succeeded(.none)), .ack)
        XCTAssertEqual(after(.succeeded(JobResult(json: Array("1".utf8))), shuttingDown: true), .ack, "finished work is kept at shutdown")
    }

    func testRetryableFailureRetriesUntilTheLastAttemptThenIsExhausted() {
        guard case .retry(let next, _, let failure) = after(.failed(JobFailure.retryable("x")), attempt: 1) else { return XCTFail() }
        XCTAssertEqual(next, 2)
        XCTAssertEqual(failure, FailureInfo(type: "JobFailure", message: "x"))
        guard case .retry(3, _, _) = after(.failed(Boom()), attempt: 2) else { return XCTFail("attempt 2 of 3 retries") }
        XCTAssertEqual(reason(after(.failed(Boom()), attempt: 3)), .exhausted, "attempt 3 of 3 is the last")
        XCTAssertEqual(reason(after(.failed(Boom()), attempt: 4)), .exhausted, "past the limit (limit lowered) is exhausted too")
    }

    func testRetryLaterRunsAgainAfterItsOwnDelayUntilTheAttemptLimit() {
        let later = RetryLater(after: .milliseconds(700), "waiting for x")
        XCTAssertEqual(after(.failed(later), attempt: 1), .retry(attempt: 2, delay: .milliseconds(700),
                                                                  failure: FailureInfo(type: "RetryLater", message: "waiting for x")),
                       "the job's delay, not the policy's backoff (1 s base)")
        XCTAssertEqual(reason(after(.failed(later), attempt: 3)), .exhausted, "bounded by the attempt limit")
        XCTAssertEqual(after(.failed(later), attempt: 1, shuttingDown: true), .leave)
    }

    func testTimeoutIsRetriedLikeAFailureAndExhaustsOnTheLastAttempt() {
        guard case .retry(2, _, let failure) = after(.timedOut(.seconds(5))) else { return XCTFail("a timed-out attempt is retried") }
        XCTAssertEqual(failure.type, "timeout")
        XCTAssertEqual(failure.message, "job did not finish within its time limit of 5.0 seconds")
        guard case .deadLetter(.exhausted, let last) = after(.timedOut(.seconds(5)), attempt: 3) else { return XCTFail() }
        XCTAssertEqual(last.type, "timeout")
        guard case .retry = after(.timedOut(.seconds(5)), shuttingDown: true) else {
            return XCTFail("a timeout during shutdown is still a timeout, not an interruption")
        }
    }

    func testNonRetryableErrorsGoStraightToTheDeadLetterQueue() {
        XCTAssertEqual(reason(after(.failed(JobFailure.permanent("no")))), .nonRetryable)
        XCTAssertEqual(reason(after(.failed(Fatal()))), .nonRetryable)
        guard case .deadLetter(_, let failure) = after(.failed(JobFailure.permanent("no"))) else { return XCTFail() }
        XCTAssertEqual(failure, FailureInfo(type: "JobFailure.permanent", message: "no"))
    }

    func testArgumentErrorsKeepTheirReason() {
        let invalid = ArgumentsError(reason: .invalidArguments, message: "arguments.ms: missing")
        XCTAssertEqual(after(.failed(invalid)), .deadLetter(.invalidArguments, failure: FailureInfo(type: "invalid-arguments", message: "arguments.ms: missing")))
        XCTAssertEqual(reason(after(.failed(ArgumentsError(reason: .undecodable, message: "not JSON")))), .undecodable)
    }

    func testFailureAtShutdownIsLeftToTheBroker() {
        XCTAssertEqual(after(.failed(CancellationError()), shuttingDown: true), .leave)
        XCTAssertEqual(after(.failed(JobFailure.permanent("no")), attempt: 3, shuttingDown: true), .leave)
    }

    func testMaxAttemptsComesFromTheMessageThenTheRegistrationThenTheDefault() {
        XCTAssertEqual(reason(after(.failed(Boom()), attempt: 2, maxAttempts: 2)), .exhausted, "message says 2")
        guard case .retry = after(.failed(Boom()), attempt: 2, maxAttempts: 5, retry: .never) else { return XCTFail("message wins") }
        XCTAssertEqual(reason(after(.failed(Boom()), attempt: 1, retry: .never)), .exhausted, "registration says 1")
        guard case .retry = after(.failed(Boom()), attempt: 2) else { return XCTFail("default says 3") }
    }

    func testRetryDelayFollowsTheBackoffWithinItsJitter() {
        // base 1 s doubling, cap 4 s, jitter 0.5: retry n waits between half and all of min(4, 2^(n-1)) s.
        func delay(_ attempt: Int, _ jitter: Double) -> Duration? {
            if case .retry(_, let d, _) = after(.failed(Boom()), attempt: attempt, maxAttempts: 10, jitter: jitter) { return d }
            return nil
        }
        XCTAssertEqual(delay(1, 0), .milliseconds(500))
        XCTAssertEqual(delay(1, 1), .seconds(1))
        XCTAssertEqual(delay(2, 0), .seconds(1))
        XCTAssertEqual(delay(2, 1), .seconds(2))
        XCTAssertEqual(delay(3, 1), .seconds(4))
        XCTAssertEqual(delay(5, 1), .seconds(4), "capped")
        XCTAssertEqual(delay(5, 0), .seconds(2), "capped, then jittered")
    }
}
