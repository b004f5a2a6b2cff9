import WarrenAMQP

/// The scheduler's broker-side lock, for other single-leader services (the store's outbox relay): the
/// leader is the connection that owns an exclusive queue; the broker frees it when that connection dies.
public enum ExclusiveQueueLock {
    /// Tries once to take the lock `queue` on `channel`; `false` when another connection holds it.
    public static func tryAcquire(_ queue: String, on channel: AMQPChannel) async throws(AMQPError) -> Bool {
        try await SchedulerLock.tryAcquire(queue, on: channel)
    }
}
