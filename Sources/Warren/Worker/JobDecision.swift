import Foundation
import WarrenAMQP

/// How one attempt ended.
public enum AttemptResult: Sendable {
    /// The job returned (its result, if any).
    case succeeded(JobResult)
    /// The job (or a middleware) threw.
    case failed(any Error)
    /// The job overran its time limit.
    case timedOut(Duration)
}

/// The worker's decisions, as pure functions: what becomes of a delivery, given what arrived, how its
/// attempt ended, the time and the policy. No I/O, no clock, no randomness (the jitter is an input), so
/// every reason and every retry boundary is tested without a broker (`JobDecisionTests`).
///
/// The worker asks twice: ``beforeAttempt(bodyBytes:decoded:definition:knownJobs:now:)`` on arrival (is it
/// readable, registered, due, not expired?), then ``afterAttempt(_:envelope:definition:shuttingDown:jitter:)``
/// once it ran. Its settlement step carries the answer out.
public struct JobDecision: Sendable {
    /// Largest message body accepted (``WorkerConfiguration/maxMessageBytes``).
    public var maxMessageBytes: Int
    /// Retry policy of jobs registered without one (``WorkerConfiguration/defaultRetry``).
    public var defaultRetry: RetryPolicy
    /// A job due within this is run now rather than sent round the delay levels again.
    public static let earlyTolerance: Duration = .milliseconds(2)

    /// A decision step with these limits.
    public init(maxMessageBytes: Int, defaultRetry: RetryPolicy) {
        self.maxMessageBytes = maxMessageBytes
        self.defaultRetry = defaultRetry
    }

    /// On arrival: `nil` to run the job now, or how to settle it without running it.
    ///
    /// - Parameters:
    ///   - bodyBytes: the message body's size.
    ///   - decoded: the message read as a job, or why it could not be (``JobDecodingError``).
    ///   - definition: the registered job of that name, if any.
    ///   - knownJobs: the registered names, for the error message of an unknown job.
    public func beforeAttempt(bodyBytes: Int, decoded: Result<JobEnvelope, JobDecodingError>,
                              definition: JobRegistry.Definition?, knownJobs: [String], now: Date) -> Disposition? {
        if bodyBytes > maxMessageBytes {
            return .deadLetter(.oversized, failure: FailureInfo(
                type: DeadLetterReason.oversized.rawValue,
                message: "message body is \(bodyBytes) bytes; the worker limit is \(maxMessageBytes)"))
        }
        let envelope: JobEnvelope
        switch decoded {
        case .failure(let error):
            return .deadLetter(error.reason, failure: FailureInfo(type: error.reason.rawValue, message: error.description))
        case .success(let e):
            envelope = e
        }
        if let expires = envelope.expiresAt, expires < now {
            return .deadLetter(.expired, failure: FailureInfo(
                type: "expired", message: "expired at \(expires) before it could start (now \(now))"))
        }
        if let runAt = envelope.runAt, runAt.timeIntervalSince(now) > Self.earlyTolerance.seconds {
            return .defer(delay: .milliseconds(Int64(runAt.timeIntervalSince(now) * 1000)))
        }
        guard definition != nil else {
            return .deadLetter(.unknownJob, failure: FailureInfo(
                type: "unknown-job",
                message: "no job named '\(envelope.name)' is registered on this worker (known: \(knownJobs.joined(separator: ", ")))"))
        }
        return nil
    }

    /// Attempts allowed for a job: the message's own limit, else its registration's, else the default.
    public func maxAttempts(_ envelope: JobEnvelope, _ definition: JobRegistry.Definition) -> Int {
        envelope.maxAttempts ?? definition.retry?.maxAttempts ?? defaultRetry.maxAttempts
    }

    /// After an attempt: ack, retry, dead-letter, or (cut short by shutdown) leave it to the broker; an
    /// iterable job cut short after progress is interrupted instead, to resume at its cursor. A job that
    /// threw ``RetryLater`` is retried after the delay it asked for (dead-lettered `exhausted` at its limit).
    ///
    /// - Parameters:
    ///   - shuttingDown: the worker cancelled its running jobs at the end of its shutdown grace period; a
    ///     job that failed then was interrupted, not failed.
    ///   - jitter: where in its jitter range a retry's delay falls, 0...1 (random in the worker).
    ///   - cursor: the cursor an iterable job checkpointed in this attempt (after its last item that
    ///     succeeded), `nil` when it finished no item in this attempt (or is not iterable). With a cursor, a
    ///     time limit or a shutdown is an interruption (``Disposition/interrupt(cursor:)``), not a failure.
    ///     Without one, it counts as before: an item longer than the time limit fails the attempt, so a job
    ///     that never advances still runs out of attempts.
    public func afterAttempt(_ result: AttemptResult, envelope: JobEnvelope, definition: JobRegistry.Definition,
                             shuttingDown: Bool, jitter: Double, cursor: [UInt8]? = nil) -> Disposition {
        if let cursor {
            switch result {
            case .timedOut: return .interrupt(cursor: cursor)
            case .failed where shuttingDown: return .interrupt(cursor: cursor)
            case .succeeded, .failed: break
            }
        }
        let failure: FailureInfo
        switch result {
        case .succeeded:
            return .ack
        case .failed where shuttingDown:
            return .leave
        case .failed(let error as ArgumentsError):
            return .deadLetter(error.reason, failure: FailureInfo(type: error.reason.rawValue, message: error.message))
        case .failed(let later as RetryLater):
            failure = FailureInfo(type: RetryLater.typeName, message: later.message)
            guard envelope.attempt < maxAttempts(envelope, definition) else { return .deadLetter(.exhausted, failure: failure) }
            return .retry(attempt: envelope.attempt + 1, delay: max(later.delay, .milliseconds(1)), failure: failure)
        case .failed(let error) where !error.isRetryable:
            return .deadLetter(.nonRetryable, failure: FailureInfo(type: error.typeName, message: "\(error)"))
        case .failed(let error):
            failure = FailureInfo(type: error.typeName, message: "\(error)")
        case .timedOut(let limit):
            failure = FailureInfo(type: "timeout", message: "job did not finish within its time limit of \(limit)")
        }
        guard envelope.attempt < maxAttempts(envelope, definition) else {
            return .deadLetter(.exhausted, failure: failure)
        }
        let retry = definition.retry ?? defaultRetry
        let next = envelope.attempt + 1
        return .retry(attempt: next, delay: retry.delay(beforeAttempt: next, jitter: jitter), failure: failure)
    }
}
