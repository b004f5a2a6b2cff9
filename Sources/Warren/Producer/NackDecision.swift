import WarrenAMQP

/// What to do when the broker nacks a publish, as a pure function: no I/O, no clock, no randomness (the
/// jitter is an input), tested without a broker (`NackDecisionTests`).
///
/// RabbitMQ nacks a publish for two different reasons, and only one of them is the caller's business:
/// - the target queue is full (`x-max-length` with `x-overflow=reject-publish`): the queue's length is at its
///   limit. That is ``WarrenError/Code/queueFull`` at once, naming the queue and its limit, or, when the caller
///   asked to wait (``EnqueueOptions/waitWhenFull``), a retry until the deadline.
/// - anything else: a quorum queue that lost its leader (a node died) and is electing another, an internal
///   broker error. These pass: the publish is retried with backoff and the same message id until the
///   deadline, and only then is it an error (``WarrenError/Code/nacked``).
///
/// A queue whose length cannot be read (no limit known, the queue unavailable while it elects a leader) is
/// taken as not full.
public enum NackDecision {
    /// The answer for one nacked publish.
    public enum Verdict: Sendable, Hashable {
        /// Publish again (same message id) after this pause.
        case retry(after: Duration)
        /// Give up: the queue is full (`length` of `limit`) and the caller does not wait, or waited until its
        /// deadline.
        case queueFull(length: Int, limit: Int)
        /// Give up: nacked for another reason until the deadline.
        case refused
    }

    /// Pause before publishing a nacked message again: 25 ms doubling to 1 s, half of it jitter.
    public static let backoff = Backoff(base: .milliseconds(25), cap: .seconds(1), jitter: 0.5)

    /// Decides for a publish nacked for the `attempt`-th time (1-based).
    ///
    /// - Parameters:
    ///   - length: the target queue's message count just after the nack, if it could be read.
    ///   - limit: the target queue's `x-max-length`, if it has one.
    ///   - waitWhenFull: the caller asked to wait for room rather than fail at once.
    ///   - remaining: time left before the publish deadline.
    ///   - jitter: where in the backoff's jitter range the pause falls, 0...1.
    public static func decide(length: Int?, limit: Int?, waitWhenFull: Bool, attempt: Int, remaining: Duration,
                              jitter: Double) -> Verdict {
        let pause = backoff.delay(attempt: attempt, unit: jitter)
        if let length, let limit, length >= limit {
            return waitWhenFull && remaining > .zero ? .retry(after: min(pause, remaining)) : .queueFull(length: length, limit: limit)
        }
        return remaining > .zero ? .retry(after: min(pause, remaining)) : .refused
    }

    /// The error a final verdict means for job `id` bound for `queue`; `nil` for a retry.
    public static func error(_ verdict: Verdict, id: String, queue: String, waited: Duration) -> WarrenError? {
        switch verdict {
        case .retry:
            return nil
        case .queueFull(let length, let limit):
            return WarrenError(.queueFull, "queue '\(queue)' is full (\(length) of its limit of \(limit) jobs): job \(id) was not enqueued"
                               + (waited > .zero ? " (waited \(waited))" : ""))
        case .refused:
            return WarrenError(.nacked, "the broker refused job \(id) for queue '\(queue)' and kept refusing it for \(waited) "
                               + "(a queue without a leader, or a broker error)")
        }
    }
}
