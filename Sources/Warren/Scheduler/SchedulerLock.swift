import WarrenAMQP

/// Leader election with the broker alone: the leader is the connection that owns the exclusive queue
/// ``SchedulerConfiguration/lockQueue``. The broker deletes an exclusive queue when its owner's connection
/// closes (cleanly, by a killed process's socket, or after missed heartbeats), which frees the lock; any
/// other connection declaring it gets 405 RESOURCE_LOCKED.
///
/// The queue is never recorded for connection recovery: a reconnected connection must compete again.
enum SchedulerLock {
    /// Tries once to take the lock on `channel`; `false` when another connection holds it.
    static func tryAcquire(_ queue: String, on channel: AMQPChannel) async throws(AMQPError) -> Bool {
        do {
            try await channel.declareQueue(queue, durable: false, exclusive: true, autoDelete: false,
                                           recordForRecovery: false)
            return true
        } catch where error.code == .channelClosed && error.replyCode == 405 {
            try await channel.reopen()
            return false
        }
    }
}
