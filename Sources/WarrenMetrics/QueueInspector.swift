import Warren
import WarrenAMQP

/// Reads queue depths and consumer counts with passive declares on one channel of its own. A missing queue
/// (404, which closes the channel) reads as `nil` and the channel is reopened for the next one.
///
/// AMQP 0-9-1 only tells the ready count and the consumers: unacknowledged counts need the management API or
/// `rabbitmqctl`.
public final class QueueInspector: Sendable {
    /// The connection the probes use.
    public let connection: AMQPConnection
    private let channel: AMQPChannel

    /// Opens the probing channel.
    public init(connection: AMQPConnection) async throws(AMQPError) {
        self.connection = connection
        self.channel = try await connection.openChannel()
    }

    /// Ready messages and consumers of each queue, in order; `nil` where the queue does not exist.
    /// Throws only when the connection fails.
    public func inspect(_ names: [String]) async throws(AMQPError) -> [(name: String, info: QueueInfo?)] {
        var out: [(name: String, info: QueueInfo?)] = []
        out.reserveCapacity(names.count)
        for name in names {
            do {
                out.append((name, try await channel.inspectQueue(name)))
            } catch where error.code == .channelClosed {
                out.append((name, nil))
                try await channel.reopen()
            }
        }
        return out
    }

    /// Every queue of `topology`: the lanes and the dead-letter queue of each work queue, then, with
    /// `delayLevels`, the 32 delay-level queues.
    public static func queueNames(of topology: Topology, delayLevels: Bool) -> [String] {
        var names: [String] = []
        for q in topology.queues { names += q.laneNames + [WireFormat.deadLetterQueue(for: q.name)] }
        if delayLevels { names += (0..<DelayRouting.levels).map(DelayRouting.queue(level:)) }
        return names
    }

    /// Closes the probing channel.
    public func close() async { await channel.close() }
}
