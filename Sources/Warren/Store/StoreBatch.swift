import Foundation

/// What a job store writes in one transaction (a group commit): state updates, heartbeats of running
/// jobs and unique keys to release.
public struct StoreBatch: Sendable, Hashable {
    /// State updates, at most one per job (see ``JobUpdate/coalesce(_:)``).
    public var updates: [JobUpdate]
    /// Running jobs whose worker is alive, heartbeat time ``heartbeatAt``.
    public var heartbeats: [String]
    /// When the heartbeats were taken.
    public var heartbeatAt: Date
    /// Keys to release.
    public var releases: [UniqueRelease]

    /// Creates a batch.
    public init(updates: [JobUpdate] = [], heartbeats: [String] = [], heartbeatAt: Date = Date(), releases: [UniqueRelease] = []) {
        self.updates = updates
        self.heartbeats = heartbeats
        self.heartbeatAt = heartbeatAt
        self.releases = releases
    }

    /// Whether there is nothing to write.
    public var isEmpty: Bool { updates.isEmpty && heartbeats.isEmpty && releases.isEmpty }
}

/// How a store's sweeper cleans up: finished jobs and settled batches past retention are deleted, running
/// jobs whose worker stopped heartbeating become ``JobState/lost``. Defaults: keep 7 days, lost after 60 s,
/// batches of 1,000.
public struct SweepPolicy: Sendable, Hashable {
    /// Finished jobs (succeeded, dead) are deleted this long after they finished; settled batches
    /// (``BatchRetention/isSettled(_:)``) this long after their last child finished, with their children.
    public var retention: Duration
    /// A running job with no heartbeat for this long is marked lost (keep it well above the worker's
    /// heartbeat interval, ``JobTrackerConfiguration/heartbeatInterval``).
    public var staleAfter: Duration
    /// Rows deleted or changed per statement.
    public var batchSize: Int
    /// Statements per sweep at most (bounds one sweep's work; the next sweep goes on).
    public var maxBatches: Int

    /// Creates a policy.
    public init(retention: Duration = .seconds(7 * 86_400), staleAfter: Duration = .seconds(60), batchSize: Int = 1_000, maxBatches: Int = 100) {
        self.retention = retention
        self.staleAfter = staleAfter
        self.batchSize = max(1, batchSize)
        self.maxBatches = max(1, maxBatches)
    }
}

/// What one sweep did.
public struct SweepReport: Sendable, Hashable {
    /// Finished jobs deleted.
    public var deleted: Int
    /// Running jobs marked lost.
    public var lost: Int
    /// Expired unique keys deleted.
    public var expiredKeys: Int
    /// Settled batches deleted (with their children and claims).
    public var batches: Int

    /// Creates a report.
    public init(deleted: Int = 0, lost: Int = 0, expiredKeys: Int = 0, batches: Int = 0) {
        self.deleted = deleted
        self.lost = lost
        self.expiredKeys = expiredKeys
        self.batches = batches
    }
}
