/// How an attempt ended, as the worker settled it.
public enum JobOutcome: String, Sendable, Hashable, CaseIterable {
    /// The job finished; acked.
    case succeeded
    /// It failed and was scheduled for another attempt.
    case retried
    /// It went to the dead-letter queue.
    case deadLettered = "dead_lettered"
    /// It arrived before its run-at time and was sent round the delay levels again.
    case deferred
    /// Its settlement did not reach the broker (connection lost): the broker will redeliver it.
    case abandoned
    /// An iterable job was interrupted (shutdown or time limit) and republished with its cursor, to resume.
    case interrupted
}

/// Receives the outcome and latency of each confirmed publish (enqueues, retries, dead letters).
public protocol PublishObserver: Sendable {
    /// A publish to `queue` finished after `duration` (from the first attempt to the broker's answer).
    func published(queue: String, duration: Duration, ok: Bool)
    /// A publish to `queue` failed for good with `code` (e.g. ``WarrenError/Code/queueFull``,
    /// ``WarrenError/Code/brokerBlocked``), after ``published(queue:duration:ok:)`` told it. Default: nothing.
    func publishFailed(queue: String, code: WarrenError.Code)
}

extension PublishObserver {
    /// Nothing.
    public func publishFailed(queue: String, code: WarrenError.Code) {}
}

/// Receives the worker's events, e.g. to keep metrics. Called from job tasks: keep it quick and thread-safe.
public protocol WorkerObserver: PublishObserver {
    /// An attempt is starting.
    func jobStarted(name: String, queue: String)
    /// An attempt ended (`failed` is true when the job threw or timed out).
    func jobFinished(name: String, queue: String, outcome: JobOutcome, failed: Bool, duration: Duration)
    /// A delivery was dead-lettered before any job ran (undecodable, unknown job, oversized, expired...).
    func messageRejected(queue: String, reason: DeadLetterReason)
    /// The worker started consuming (`true`), or stopped taking new jobs (`false`): readiness.
    func consumingChanged(_ consuming: Bool)
}

extension WorkerObserver {
    /// Default: ignored.
    public func consumingChanged(_ consuming: Bool) {}
    /// Default: ignored.
    public func published(queue: String, duration: Duration, ok: Bool) {}
}
