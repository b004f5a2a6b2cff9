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
