import Synchronization
import WarrenAMQP

/// Passive queue declares on a channel of the probe's own (a 404 closes the channel it happens on, and the
/// confirm channel must not be the one): whether a queue exists, and how many messages it holds.
final class QueueProbe: Sendable {
    private let connection: AMQPConnection
    private let state = Mutex<AMQPChannel?>(nil)

    init(connection: AMQPConnection) { self.connection = connection }

    /// The queue's counts, or `nil` when it does not exist.
    func inspect(_ queue: String) async throws(AMQPError) -> QueueInfo? {
        try await channel().queueIfExists(queue)
    }

    private func channel() async throws(AMQPError) -> AMQPChannel {
        if let channel = state.withLock({ $0 }) { return channel }
        let channel = try await connection.openChannel()
        return state.withLock { s in
            if let existing = s { return existing }
            s = channel
            return channel
        }
    }
}

/// The length limits of a topology's work queues (``Topology/Queue/maxLength``) and a way to read a queue's
/// length, so that ``ConfirmedPublisher`` can tell a nack for a full queue from a nack for a broker in
/// trouble (see ``NackDecision``).
public struct QueueCapacity: Sendable {
    /// Length limit by queue name (every lane of a limited work queue).
    let limits: [String: Int]
    let probe: QueueProbe

    /// The limits of `topology`'s queues, read with passive declares on their own channel of `connection`.
    public init(topology: Topology, connection: AMQPConnection) {
        self.init(topology: topology, probe: QueueProbe(connection: connection))
    }

    init(topology: Topology, probe: QueueProbe) {
        var limits: [String: Int] = [:]
        for queue in topology.queues {
            guard let limit = queue.maxLength else { continue }
            for lane in queue.laneNames { limits[lane] = limit }
        }
        self.limits = limits
        self.probe = probe
    }

    /// The limit of the queue `message` goes straight to (through the work exchange), if it has one.
    func limit(of message: OutgoingMessage) -> (queue: String, limit: Int)? {
        guard !limits.isEmpty, message.exchange == WireFormat.workExchange, let limit = limits[message.routingKey] else { return nil }
        return (message.routingKey, limit)
    }

    /// The message count of `queue`, or `nil` when it cannot be read now.
    func length(of queue: String) async -> Int? {
        guard let info = try? await probe.inspect(queue) else { return nil }
        return Int(info.messageCount)
    }
}
