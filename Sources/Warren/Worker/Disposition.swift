/// What becomes of a delivery: the output of the worker's pure decision step (``JobDecision``), carried out
/// by its settlement step. Every case but ``leave`` ends with the delivery acked, after whatever replaces it
/// (a retry, a dead letter, a deferred copy) was confirmed by the broker.
public enum Disposition: Sendable, Hashable {
    /// The job succeeded: ack.
    case ack
    /// It arrived before its run-at time: sent round the delay levels again for `delay`, then acked.
    case `defer`(delay: Duration)
    /// It failed and may try again: republished as attempt `attempt` after `delay`, then acked.
    case retry(attempt: Int, delay: Duration, failure: FailureInfo)
    /// It goes to the dead-letter queue with `reason`, then is acked.
    case deadLetter(DeadLetterReason, failure: FailureInfo)
    /// Cut short by shutdown: left unacked, for the broker to redeliver with its attempt count unchanged.
    case leave
    /// An iterable job (``IterableJob``) was interrupted (shutdown or time limit) after finishing the items up
    /// to `cursor` (its JSON): republished to its queue with the same attempt number and `cursor` in
    /// ``WireFormat/Header/cursor``, confirmed, then acked; the next worker resumes after `cursor`. Not a
    /// failed attempt.
    case interrupt(cursor: [UInt8])

    /// The outcome reported to observers once the settlement reached the broker.
    var outcome: JobOutcome {
        switch self {
        case .ack: .succeeded
        case .defer: .deferred
        case .retry: .retried
        case .deadLetter: .deadLettered
        case .leave: .abandoned
        case .interrupt: .interrupted
        }
    }
}

/// Why an attempt failed, as written into the failure headers: an error type and a message.
public struct FailureInfo: Sendable, Hashable {
    /// A stable name for the error (a Swift type name, `timeout`, or a dead-letter reason).
    public var type: String
    /// What went wrong.
    public var message: String

    /// Creates a failure.
    public init(type: String, message: String) {
        self.type = type
        self.message = message
    }
}
