import Foundation

/// One fire the leader published and the broker confirmed.
public struct FireRecord: Sendable, Hashable {
    /// The schedule's name.
    public var schedule: String
    /// The message id, ``ScheduleDefinition/fireID(for:)``.
    public var fireID: String
    /// The scheduled fire time.
    public var fireTime: Date
    /// When the publish was handed to the connection.
    public var publishedAt: Date
    /// When the broker confirmed it.
    public var confirmedAt: Date
    /// Published at takeover or start-up for a fire that passed while no leader ran.
    public var caughtUp: Bool

    /// Publish time minus fire time (includes any jitter).
    public var lateness: Duration { .seconds(publishedAt.timeIntervalSince(fireTime)) }
}

/// Hooks for logs, metrics, status files and benchmarks. Called from the scheduler's task: return quickly.
public protocol SchedulerObserver: Sendable {
    /// This replica became the leader (`true`) or stopped being it (`false`).
    func leadershipChanged(leading: Bool)
    /// A fire was published and confirmed.
    func fired(_ fire: FireRecord)
}

extension SchedulerObserver {
    /// Does nothing.
    public func leadershipChanged(leading: Bool) {}
    /// Does nothing.
    public func fired(_ fire: FireRecord) {}
}
