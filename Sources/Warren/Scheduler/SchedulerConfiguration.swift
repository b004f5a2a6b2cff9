import Foundation

/// How a ``SchedulerService`` elects its leader and keeps its state. Replicas of one group must agree on
/// ``group``; everything else is per process.
public struct SchedulerConfiguration: Sendable, Hashable {
    /// Replicas with the same group share one leader and one fire history. Default `default`.
    public var group: String
    /// How often a follower tries to take the lock (plus up to 25 % random jitter). This bounds the
    /// takeover gap after a leader dies. Default 1 s.
    public var lockRetryInterval: Duration
    /// Heartbeat of the scheduler's connection, in seconds. A leader cut off from the broker is declared dead
    /// after about two of them, which releases the lock. Default 5.
    public var heartbeat: Int
    /// Fires missed by less than this are published late, whatever the schedule's
    /// ``MissedFirePolicy``: a takeover or a short reconnect is not downtime. Older fires follow the policy.
    /// Default 30 s.
    public var lateFireWindow: Duration
    /// Wait between connection attempts, and after a lost connection before competing again. Default 1 s.
    public var reconnectDelay: Duration
    /// Declare the work queues of the schedules (with ``Topology``) on each takeover. Default `true`.
    public var declareTopology: Bool

    /// Creates a configuration; every field has a default.
    public init(group: String = "default", lockRetryInterval: Duration = .seconds(1), heartbeat: Int = 5,
                lateFireWindow: Duration = .seconds(30), reconnectDelay: Duration = .seconds(1), declareTopology: Bool = true) {
        self.group = group
        self.lockRetryInterval = lockRetryInterval
        self.heartbeat = heartbeat
        self.lateFireWindow = lateFireWindow
        self.reconnectDelay = reconnectDelay
        self.declareTopology = declareTopology
    }

    /// The exclusive queue whose owner is the group's leader.
    public var lockQueue: String { "warren.scheduler.lock.\(group)" }

    /// The queue that keeps the last fired job of `schedule` (`x-max-length` 1).
    public func stateQueue(for schedule: String) -> String { "warren.scheduler.state.\(group).\(schedule)" }
}
