/// Where a job is in its life, as a job store records it.
///
/// States are ordered within an attempt by ``rank``: a store keeps, for each job, the write with the highest
/// `(attempt, rank)` it has seen, so writes that arrive late or twice (a producer's `enqueued` after the
/// worker's `running`, a redelivered attempt's `running` after its `succeeded`) never move a job backwards,
/// and a redelivered attempt that runs again overwrites its own earlier outcome.
public enum JobState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Never seen by this store: not a guess, just no record (or one already expired by retention).
    case unknown
    /// Enqueued, waiting in its queue.
    case enqueued
    /// Enqueued to run later (delay or run-at), or sent round the delay levels again.
    case scheduled
    /// An attempt is running on a worker.
    case running
    /// An attempt failed; the job waits for its next attempt.
    case retrying
    /// It ran to completion; its result, if any, is kept.
    case succeeded
    /// It went to the dead-letter queue (reason kept), or could not be enqueued at all.
    case dead
    /// It was running on a worker that stopped heartbeating; the broker redelivers it, and its next run
    /// overwrites this state.
    case lost

    /// Order of states within one attempt; equal or higher ranks replace what a store holds.
    public var rank: Int {
        switch self {
        case .unknown, .enqueued, .scheduled, .lost: 0
        case .running: 1
        case .retrying: 2
        case .succeeded, .dead: 3
        }
    }

    /// Whether the job is over (kept until retention deletes it).
    public var isFinished: Bool { self == .succeeded || self == .dead }

    /// Whether a write of `(attempt, self)` replaces a stored `(storedAttempt, stored)`: the rule every
    /// backend applies in SQL (`(attempt, rank) >= (stored attempt, stored rank)`), here for batching.
    public func replaces(_ stored: JobState, attempt: Int, storedAttempt: Int) -> Bool {
        (attempt, rank) >= (storedAttempt, stored.rank)
    }
}
