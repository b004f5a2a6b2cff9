import WarrenAMQP

/// Publishes messages with publisher confirms and says, for each one, whether the broker has it: the one
/// place that turns a confirm outcome into an error, publishes again what a lost connection cut off, and
/// reports publish latency. The producer, the worker's retries and dead letters, the scheduler and the
/// dead-letter tool all publish through it.
///
/// A message whose confirm a lost connection left unknown is published again, with the same id, once the
/// connection is back, until ``republishFor`` has passed since the first try: it may then arrive twice,
/// never zero times. With ``republishFor`` zero (connections without recovery, such as the scheduler's and
/// the dead-letter tool's) a lost connection is an error at once.
///
/// Threading: a value type over a channel; use it from any task. Batches hand their messages to the
/// connection's I/O thread at once and the caller sleeps until every outcome is known.
public struct ConfirmedPublisher: Sendable {
    /// The confirm-mode channel.
    public let channel: AMQPChannel
    /// How long to keep publishing again what a lost connection cut off. Default 30 s.
    public let republishFor: Duration
    /// Told the latency and outcome of every publish, per message.
    public let observer: (any PublishObserver)?
    /// Messages per chunk of a batch: outcomes are collected (and latency reported) a chunk at a time.
    static let chunkSize = 500

    /// A publisher on `channel`, which must be in confirm mode (opened with a confirm window).
    public init(channel: AMQPChannel, republishFor: Duration = .seconds(30), observer: (any PublishObserver)? = nil) {
        self.channel = channel
        self.republishFor = republishFor
        self.observer = observer
    }

    /// Publishes one message for job `id` bound for work queue `queue` (both named in errors and metrics);
    /// returns once the broker confirmed it.
    public func publish(_ message: OutgoingMessage, id: String, queue: String) async throws(WarrenError) {
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            let outcome: PublishOutcome
            do throws(AMQPError) {
                outcome = try await channel.publish(message)
            } catch where error.code == .connectionLost && ContinuousClock.now < started + republishFor {
                attempt += 1
                await Self.pauseBeforeRepublishing(attempt: attempt)
                continue
            } catch {
                report(queue, since: started, ok: false)
                throw WarrenError(error, "publishing job \(id)")
            }
            if let error = Self.check(outcome, id: id, queue: queue) {
                report(queue, since: started, ok: false)
                throw error
            }
            report(queue, since: started, ok: true)
            return
        }
    }

    /// Publishes `count` messages with the confirm window full and returns each one's result, in order.
    /// `make(k)` builds message k on the connection's I/O thread just before the window has room for it
    /// (quick, no blocking); `describe(k)` names its job id and work queue for errors and metrics. Messages cut
    /// off by a lost connection are published again together once it is back, until ``republishFor``.
    public func publish(count: Int, describe: (Int) -> (id: String, queue: String),
                        make: @escaping @Sendable (Int) -> OutgoingMessage) async -> [Result<Void, WarrenError>] {
        var results = [Result<Void, WarrenError>?](repeating: nil, count: count)
        let started = ContinuousClock.now
        var pending = Array(0..<count)
        var attempt = 0
        while !pending.isEmpty {
            let lost = await publishOnce(pending, describe: describe, make: make, started: started, results: &results)
            guard !lost.isEmpty else { break }
            guard ContinuousClock.now < started + republishFor else {
                for (k, error) in lost { results[k] = .failure(WarrenError(error, "publishing job \(describe(k).id)")) }
                break
            }
            attempt += 1
            await Self.pauseBeforeRepublishing(attempt: attempt)
            pending = lost.map(\.index)
        }
        return results.map { $0! }
    }

    /// Publishes the messages at `pending` once, in chunks all handed to the I/O thread at once, and records
    /// each outcome; returns those whose outcome the connection's loss left unknown.
    private func publishOnce(_ pending: [Int], describe: (Int) -> (id: String, queue: String),
                             make: @escaping @Sendable (Int) -> OutgoingMessage, started: ContinuousClock.Instant,
                             results: inout [Result<Void, WarrenError>?]) async -> [(index: Int, error: AMQPError)] {
        let chunks = stride(from: 0, to: pending.count, by: Self.chunkSize).map { first in
            let range = first..<min(pending.count, first + Self.chunkSize)
            return (range, channel.beginPublishing(count: range.count) { k in make(pending[first + k]) })
        }
        var lost: [(index: Int, error: AMQPError)] = []
        for (range, batch) in chunks {
            let outcomes = await batch.outcomes()
            let elapsed = observer == nil ? nil : ContinuousClock.now - started  // once per chunk
            for (index, outcome) in zip(pending[range], outcomes) {
                let (id, queue) = describe(index)
                let result: Result<Void, WarrenError>
                switch outcome {
                case .success(let o):
                    result = Self.check(o, id: id, queue: queue).map { .failure($0) } ?? .success(())
                case .failure(let error) where error.code == .connectionLost:
                    lost.append((index, error))
                    continue
                case .failure(let error):
                    result = .failure(WarrenError(error, "publishing job \(id)"))
                }
                results[index] = result
                if let elapsed { observer?.published(queue: queue, duration: elapsed, ok: (try? result.get()) != nil) }
            }
        }
        return lost
    }

    private func report(_ queue: String, since started: ContinuousClock.Instant, ok: Bool) {
        observer?.published(queue: queue, duration: ContinuousClock.now - started, ok: ok)
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
        case .nacked: return WarrenError(.nacked, "the broker refused job \(id) (queue full or broker error)")
        case .returned(let code, let text):
            return WarrenError(.unroutable, "job \(id) was not routed to any queue (\(code) \(text)): is queue '\(queue)' declared?")
        }
    }

    /// The work queue a message is bound for: its `warren-queue` header, else its routing key.
    public static func queue(of message: OutgoingMessage) -> String {
        HeaderValues.string(message.properties.headers?[WireFormat.Header.queue]) ?? message.routingKey
    }
}
