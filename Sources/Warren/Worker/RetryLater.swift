/// Throw this from a job that cannot do its work **yet** (it waits for something another job does) to be
/// run again after `delay`, without holding a runner meanwhile: the worker republishes the message through
/// the delay levels as attempt + 1, exactly as a retry, but after `delay` instead of the retry policy's
/// backoff, and logs it at debug level instead of as a failure. Attempts stay bounded by the job's attempt
/// limit (``RetryPolicy/maxAttempts`` or `warren-max-attempts`): at the limit the job is dead-lettered
/// `exhausted` with `message` as its last error. A job store records it as `retrying` with `message`.
///
/// Celery's `celery.chord_unlock` waits this way for a chord's header tasks (``CeleryChordUnlock``), as
/// Celery's own task does with `self.retry(countdown=interval)`.
public struct RetryLater: Error, Sendable, CustomStringConvertible {
    /// How long to wait before the next attempt.
    public var delay: Duration
    /// What the job waits for (the next attempt's error headers and the store's `last_error`).
    public var message: String

    /// Run again after `delay`, waiting for what `message` says.
    public init(after delay: Duration, _ message: String) {
        self.delay = delay
        self.message = message
    }

    /// The error type written into the failure headers (`warren-error-type`).
    public static let typeName = "RetryLater"

    public var description: String { message }
}
