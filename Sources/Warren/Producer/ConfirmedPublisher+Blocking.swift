import Synchronization
import WarrenAMQP

/// The deadline and full-queue behaviour of one publish (or batch) through ``ConfirmedPublisher``.
public struct PublishRules: Sendable {
    /// When to stop waiting for the broker: for a block to lift, a full queue to make room (with
    /// ``waitWhenFull``), a nack or a lost connection to pass.
    public var deadline: ContinuousClock.Instant
    /// Wait for room in a full queue until ``deadline`` instead of failing at once with
    /// ``WarrenError/Code/queueFull``.
    public var waitWhenFull: Bool

    /// Rules with this deadline; by default a full queue fails at once.
    public init(deadline: ContinuousClock.Instant, waitWhenFull: Bool = false) {
        self.deadline = deadline
        self.waitWhenFull = waitWhenFull
    }
}

extension ConfirmedPublisher {
    /// How often a publisher looks whether the broker lifted a block.
    static let blockedPoll: Duration = .milliseconds(20)

    /// Returns at once unless the broker blocks publishers on this connection (`connection.blocked`); then
    /// waits for the block to lift, and throws ``WarrenError/Code/brokerBlocked`` if it has not by `deadline`.
    public func waitWhileBlocked(until deadline: ContinuousClock.Instant, id: String, queue: String) async throws(WarrenError) {
        guard channel.connection.isBlocked else { return }
        let started = ContinuousClock.now
        while channel.connection.isBlocked {
            guard ContinuousClock.now < deadline else { throw blockedError(id: id, queue: queue, since: started) }
            try? await Task.sleep(for: Self.blockedPoll)
        }
    }

    /// The error for job `id` held up by a blocked broker since `started`.
    func blockedError(id: String, queue: String, since started: ContinuousClock.Instant) -> WarrenError {
        WarrenError(.brokerBlocked, "the broker blocks publishers (memory or disk alarm): job \(id) for queue '\(queue)' "
                    + "was not confirmed within \(ContinuousClock.now - started); it may still be enqueued once the alarm clears")
    }

    /// Publishes `message` once and returns the broker's answer; throws ``WarrenError/Code/brokerBlocked`` when
    /// the broker blocks the connection at or after `deadline` while the answer is still out.
    func confirm(_ message: OutgoingMessage, id: String, queue: String,
                 deadline: ContinuousClock.Instant) async throws(WarrenError) -> PublishOutcome {
        let started = ContinuousClock.now
        let channel = self.channel
        let answer = await Self.unlessBlocked(channel.connection, after: deadline) { () async -> Result<PublishOutcome, AMQPError> in
            do throws(AMQPError) { return .success(try await channel.publish(message)) } catch { return .failure(error) }
        }
        switch answer {
        case nil: throw blockedError(id: id, queue: queue, since: started)
        case .success(let outcome)?: return outcome
        case .failure(let error)?: throw WarrenError(error, "publishing job \(id)")
        }
    }

    /// Awaits `operation`, or gives up on it (`nil`, the operation running on) once `deadline` passed while the
    /// broker blocks `connection`. On a connection that is not blocked, a confirm always comes (or the
    /// connection is lost, found out by heartbeats), so an unblocked wait past the deadline is no hang.
    static func unlessBlocked<T: Sendable>(_ connection: AMQPConnection, after deadline: ContinuousClock.Instant,
                                           _ operation: @escaping @Sendable () async -> T) async -> T? {
        let race = Race<T>()
        return await withCheckedContinuation { (c: CheckedContinuation<T?, Never>) in
            race.start(c)
            let watcher = Task {
                try? await Task.sleep(until: deadline)
                while !Task.isCancelled {
                    if connection.isBlocked { return race.finish(nil) }
                    try? await Task.sleep(for: blockedPoll)
                }
            }
            Task {
                let value = await operation()
                watcher.cancel()
                race.finish(value)
            }
        }
    }
}

/// The first of two answers, handed to one waiting continuation.
private final class Race<T: Sendable>: Sendable {
    private let waiter = Mutex<CheckedContinuation<T?, Never>?>(nil)

    func start(_ c: CheckedContinuation<T?, Never>) { waiter.withLock { $0 = c } }

    func finish(_ value: T?) { waiter.withLock { w in defer { w = nil }; return w }?.resume(returning: value) }
}
