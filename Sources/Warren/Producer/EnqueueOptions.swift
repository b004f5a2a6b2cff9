import Foundation
import WarrenAMQP

/// How to enqueue one job. Everything is optional.
public struct EnqueueOptions: Sendable {
    /// Work queue. Default `default`.
    public var queue: String
    /// Priority 0...255 (honoured up to the queue's `x-max-priority`, or by lane).
    public var priority: UInt8?
    /// Run no sooner than this long from now.
    public var delay: Duration?
    /// Run no sooner than this time (wins over ``delay``).
    public var runAt: Date?
    /// Drop (dead-letter as `expired`) if not started by this time.
    public var expiresAt: Date?
    /// Job id; default a new UUID. Use a deterministic one to make enqueueing idempotent downstream.
    public var jobID: String?
    /// Attempt limit for this job, overriding the worker's retry policy.
    public var maxAttempts: Int?
    /// Correlation id property.
    public var correlationID: String?
    /// Extra headers, kept as they are.
    public var headers: FieldTable
    /// How long the enqueue may take, from its start to the broker's confirm: waiting while the broker blocks
    /// publishers (then ``WarrenError/Code/brokerBlocked``), for room in a full queue (with ``waitWhenFull``),
    /// and publishing again through nacks and connection losses. Default `nil`: the producer's
    /// ``JobProducer/publishTimeout`` (30 s).
    public var timeout: Duration?
    /// When the queue is at its length limit (``Topology/Queue/maxLength``), wait for room until the deadline
    /// (``timeout``) instead of failing at once with ``WarrenError/Code/queueFull``. Default `false`.
    public var waitWhenFull: Bool = false
    /// Enqueue only if no job holds this unique key (see ``UniqueJob``); needs a job store, so only a
    /// ``TrackedProducer`` accepts it.
    public var unique: UniqueJob?

    /// Creates options.
    public init(queue: String = "default", priority: UInt8? = nil, delay: Duration? = nil, runAt: Date? = nil,
                expiresAt: Date? = nil, jobID: String? = nil, maxAttempts: Int? = nil, correlationID: String? = nil,
                headers: FieldTable = [:], unique: UniqueJob? = nil) {
        self.queue = queue
        self.priority = priority
        self.delay = delay
        self.runAt = runAt
        self.expiresAt = expiresAt
        self.jobID = jobID
        self.maxAttempts = maxAttempts
        self.correlationID = correlationID
        self.headers = headers
        self.unique = unique
    }

    /// Sets the expiry to `interval` from now.
    public func expiring(in interval: Duration) -> EnqueueOptions {
        var o = self
        o.expiresAt = Date().addingTimeInterval(interval.seconds)
        return o
    }
}
