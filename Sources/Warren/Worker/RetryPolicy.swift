import WarrenAMQP

/// How a failing job is retried: up to ``maxAttempts`` attempts in all, waiting an exponential backoff with
/// jitter between them (through the delay levels: nothing waits in worker memory). Then it is dead-lettered.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included. 1 means no retry.
    public var maxAttempts: Int
    /// Wait before retry n: `min(cap, base * 2^(n-1))`, with a jitter fraction randomised.
    public var backoff: Backoff

    /// Creates a policy.
    public init(maxAttempts: Int, backoff: Backoff = Backoff(base: 1, cap: 300, jitter: 0.2)) {
        self.maxAttempts = max(1, maxAttempts)
        self.backoff = backoff
    }

    /// 5 attempts, 1 s doubling to at most 5 min, 20 % jitter.
    public static let `default` = RetryPolicy(maxAttempts: 5)
    /// One attempt: failures go straight to the dead-letter queue.
    public static let never = RetryPolicy(maxAttempts: 1)

    /// The wait before attempt `next` (2 = first retry).
    public func delay(beforeAttempt next: Int) -> Duration {
        .milliseconds(Int64((backoff.delay(attempt: next - 1) * 1000).rounded()))
    }
}

/// Throw this (or an error conforming to ``NonRetryableError``) from a job to skip retries and go straight
/// to the dead-letter queue with reason `non-retryable`.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// Whether retrying could help.
    public var retryable: Bool

    /// A retryable failure.
    public static func retryable(_ message: String) -> JobFailure { JobFailure(message: message, retryable: true) }
    /// A failure retrying cannot fix.
    public static func permanent(_ message: String) -> JobFailure { JobFailure(message: message, retryable: false) }

    public var description: String { message }
}

/// Errors of types conforming to this are never retried.
public protocol NonRetryableError: Error {}

extension Error {
    /// Whether Warren may retry a job that threw this.
    var isRetryable: Bool {
        if self is NonRetryableError { return false }
        if let f = self as? JobFailure { return f.retryable }
        return true
    }

    /// A stable name for the error's type, for headers and metrics.
    var typeName: String {
        if let f = self as? JobFailure { return f.retryable ? "JobFailure" : "JobFailure.permanent" }
        return String(reflecting: type(of: self))
    }
}
