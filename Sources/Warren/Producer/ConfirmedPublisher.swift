import WarrenAMQP

/// Publishes messages with publisher confirms and says, for each one, whether the broker has it: the one
/// place that turns a confirm outcome into an error, publishes again what a lost connection cut off or the
/// broker nacked, waits out a blocked broker, and reports publish latency. The producer, the worker's retries
/// and dead letters, the scheduler and the dead-letter tool all publish through it.
///
/// Every publish has a deadline (``PublishRules``; by default ``republishFor`` from its start):
/// - a message whose confirm a lost connection left unknown is published again, with the same id, once the
///   connection is back: it may then arrive twice, never zero times;
/// - a nacked message is published again with backoff unless its queue is full (``NackDecision``): a quorum
///   queue electing a new leader after a node died keeps the publish waiting, not failing;
/// - while the broker blocks publishers (`connection.blocked`) nothing is published, and a confirm held up by
///   a block is given up at the deadline with ``WarrenError/Code/brokerBlocked`` (the broker may still take
///   that message once the block lifts).
/// With ``republishFor`` zero (connections without recovery, such as the scheduler's and the dead-letter
/// tool's) a lost connection or a nack is an error at once.
///
/// Threading: a value type over a channel; use it from any task. Batches hand their messages to the
/// connection's I/O thread at once and the caller sleeps until every outcome is known.
public struct ConfirmedPublisher: Sendable {
    /// The confirm-mode channel.
    public let channel: AMQPChannel
    /// How long to keep publishing again what a lost connection cut off or the broker nacked. Default 30 s.
    public let republishFor: Duration
    /// Told the latency and outcome of every publish, per message.
    public let observer: (any PublishObserver)?
    /// The queues' length limits, to tell a full queue's nack from others; `nil`: no queue has a limit.
    public let capacity: QueueCapacity?
    /// Messages per chunk of a batch: outcomes are collected (and latency reported) a chunk at a time.
    static let chunkSize = 500

    /// A publisher on `channel`, which must be in confirm mode (opened with a confirm window).
    public init(channel: AMQPChannel, republishFor: Duration = .seconds(30), observer: (any PublishObserver)? = nil,
                capacity: QueueCapacity? = nil) {
        self.channel = channel
        self.republishFor = republishFor
        self.observer = observer
        self.capacity = capacity
    }

    /// The rules for an enqueue with `options`, starting now.
    public func rules(_ options: EnqueueOptions) -> PublishRules {
        PublishRules(deadline: .now + (options.timeout ?? republishFor), waitWhenFull: options.waitWhenFull)
    }

    /// Publishes one message for job `id` bound for work queue `queue` (both named in errors and metrics);
    /// returns once the broker confirmed it. `rules`: by default ``republishFor`` from now, failing at once on
    /// a full queue.
    public func publish(_ message: OutgoingMessage, id: String, queue: String, rules: PublishRules? = nil) async throws(WarrenError) {
        let started = ContinuousClock.now
        let rules = rules ?? PublishRules(deadline: started + republishFor)
        var (lost, nacked) = (0, 0)
        while true {
            let outcome: PublishOutcome
            do throws(WarrenError) {
                try await waitWhileBlocked(until: rules.deadline, id: id, queue: queue)
                outcome = try await confirm(message, id: id, queue: queue, deadline: rules.deadline)
            } catch where error.underlying?.code == .connectionLost && ContinuousClock.now < rules.deadline {
                lost += 1
                await Self.pauseBeforeRepublishing(attempt: lost)
                continue
            } catch {
                report(queue, since: started, failure: error.code)
                throw error
            }
            if outcome == .nacked {
                nacked += 1
                let verdict = await verdict(message, attempt: nacked, rules: rules)
                if case .retry(let pause) = verdict {
                    try? await Task.sleep(for: pause)
                    continue
                }
                let error = NackDecision.error(verdict, id: id, queue: queue, waited: .now - started)!
                report(queue, since: started, failure: error.code)
                throw error
            }
            if let error = Self.check(outcome, id: id, queue: queue) {
                report(queue, since: started, failure: error.code)
                throw error
            }
            report(queue, since: started, failure: nil)
            return
        }
    }

    /// What to do about a nack of `message`: reads its queue's length when the queue has a limit.
    func verdict(_ message: OutgoingMessage, attempt: Int, rules: PublishRules) async -> NackDecision.Verdict {
        var length: Int?
        let limited = capacity?.limit(of: message)
        if let limited { length = await capacity?.length(of: limited.queue) }
        return NackDecision.decide(length: length, limit: limited?.limit, waitWhenFull: rules.waitWhenFull, attempt: attempt,
                                   remaining: rules.deadline - .now, jitter: Double.random(in: 0...1))
    }

    /// Tells the observer how a publish to `queue` ended: confirmed (`failure` nil) or failed with that code.
    func report(_ queue: String, since started: ContinuousClock.Instant, failure: WarrenError.Code?) {
        report(queue, duration: ContinuousClock.now - started, failure: failure)
    }

    func report(_ queue: String, duration: Duration, failure: WarrenError.Code?) {
        guard let observer else { return }
        observer.published(queue: queue, duration: duration, ok: failure == nil)
        if let failure { observer.publishFailed(queue: queue, code: failure) }
    }

    /// Waits before publishing again what a lost connection cut off, while the connection recovers: 50 ms
    /// more per attempt, at most 1 s.
    static func pauseBeforeRepublishing(attempt: Int) async {
        try? await Task.sleep(for: .milliseconds(min(1000, 50 * attempt)))
    }

    /// The error a confirm outcome means for job `id` bound for `queue`, or `nil` when the broker has it.
    public static func check(_ outcome: PublishOutcome, id: String, queue: String) -> WarrenError? {
        switch outcome {
        case .acked, .sent: return nil
        case .nacked: return NackDecision.error(.refused, id: id, queue: queue, waited: .zero)
        case .returned(let code, let text):
            return WarrenError(.unroutable, "job \(id) was not routed to any queue (\(code) \(text)): is queue '\(queue)' declared?")
        }
    }

    /// The work queue a message is bound for: its `warren-queue` header, else its routing key.
    public static func queue(of message: OutgoingMessage) -> String {
        HeaderValues.string(message.properties.headers?[WireFormat.Header.queue]) ?? message.routingKey
    }
}
