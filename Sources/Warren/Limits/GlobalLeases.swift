import Synchronization
import Logging
import WarrenAMQP

/// A worker's leases on ``GlobalLimit``s: token queues filled once (under an exclusive-queue lock, like the
/// scheduler's leader lock), and tokens received one per waiting job on a channel of the worker's
/// connection, held unacked while the job runs.
///
/// Waiting without polling: each waiting job starts a consumer with a prefetch of one on the token queue;
/// the broker delivers it a token when one is free, and the consumer is cancelled before the lease is used
/// (so it never receives a second one). Release requeues the token. Closing the channel (worker stop, or a
/// dead process's connection) gives back every token it holds.
final class GlobalLeases: Sendable {
    private let connection: AMQPConnection
    private let mode: Topology.Mode
    private let logger: Logger
    private let waits: TokenWaits
    private struct State {
        var filled: Set<String> = []
        /// Fills in progress from this worker: one per queue (the lock is per connection, so two jobs of one
        /// worker would both hold it).
        var fills: [String: Task<AMQPError?, Never>] = [:]
    }
    private let state = Mutex(State())

    init(connection: AMQPConnection, mode: Topology.Mode, logger: Logger) {
        self.connection = connection
        self.mode = mode
        self.logger = logger
        self.waits = TokenWaits(connection: connection)
    }

    /// Waits for a token of the limit `queue` (with `permits` tokens); `nil` when the leases were closed first.
    func acquire(_ queue: String, permits: Int) async throws(AMQPError) -> Lease? {
        try await fillIfNeeded(queue, permits: permits)
        return try await waits.token(of: queue).map(Lease.init)
    }

    /// Stops the waits (they return `nil`); held tokens are given back when the channel closes.
    func stopWaiting() { waits.stop() }

    /// Closes the lease channel: every token still held goes back to its queue.
    func close() async { await waits.close() }

    /// Makes sure the token queue exists with its tokens: the first worker to need it takes the lock, declares
    /// the queue, empties whatever a fill cut short left, publishes `permits` tokens (confirmed) and marks it
    /// filled. Consumers only ever start on a queue marked filled, so the refill never doubles tokens.
    private func fillIfNeeded(_ queue: String, permits: Int) async throws(AMQPError) {
        let fill = state.withLock { s -> Task<AMQPError?, Never>? in
            if s.filled.contains(queue) { return nil }
            if let running = s.fills[queue] { return running }
            let task = Task { () async -> AMQPError? in
                do throws(AMQPError) { try await self.fill(queue, permits: permits) } catch { return error }
                return nil
            }
            s.fills[queue] = task
            return task
        }
        guard let fill else { return }
        let error = await fill.value
        state.withLock { _ = $0.fills.removeValue(forKey: queue) }
        if let error { throw error }
    }

    private func fill(_ queue: String, permits: Int) async throws(AMQPError) {
        let marker = "\(queue).filled"
        let channel = try await connection.openChannel(confirmWindow: max(1, permits))
        defer { Task { await channel.close() } }
        // Filled means the marker AND the token queue exist: a marker whose queue was deleted (by an operator or a
        // clean-up) is stale, and the queue is filled again under the lock.
        func filled() async throws(AMQPError) -> Bool {
            guard try await channel.unlessRefused(404, { () async throws(AMQPError) in try await channel.inspectExchange(marker) }) != nil
            else { return false }
            return try await channel.queueIfExists(queue) != nil
        }
        for round in 0..<600 {  // 60 s at most for another worker's fill
            if try await filled() {
                state.withLock { _ = $0.filled.insert(queue) }
                return
            }
            if try await SchedulerLock.tryAcquire("\(queue).lock", on: channel) {
                // Filled by the worker that held the lock just before? Then leave it be.
                if try await filled() {
                    _ = try? await channel.deleteQueue("\(queue).lock")
                    continue
                }
                _ = try? await channel.deleteExchange(marker)  // stale, if any: the queue is filled anew below
                try await channel.declareQueue(queue, durable: true, arguments: mode == .quorum ? ["x-queue-type": "quorum"] : [:])
                _ = try await channel.purgeQueue(queue)
                let token = OutgoingMessage(routingKey: queue, properties: BasicProperties(persistent: true), body: [])
                for outcome in await channel.publish(Array(repeating: token, count: permits)) {
                    if case .failure(let error) = outcome { throw error }
                }
                try await channel.declareExchange(marker, type: .fanout, recordForRecovery: false)
                _ = try? await channel.deleteQueue("\(queue).lock")
                logger.info("filled global limit", metadata: ["queue": "\(queue)", "permits": "\(permits)"])
                state.withLock { _ = $0.filled.insert(queue) }
                return
            }
            if round == 0 { logger.debug("waiting for another worker to fill a global limit", metadata: ["queue": "\(queue)"]) }
            try? await Task.sleep(for: .milliseconds(100))
        }
        throw AMQPError(.protocolError, "global limit '\(queue)' was not filled by the worker holding its lock within 60 s")
    }
}

/// A token held while a job runs.
struct Lease: Sendable {
    let token: AMQPDelivery

    /// Gives the token back to its queue (a lost connection already did).
    func release() async { try? await token.nack(requeue: true) }
}

