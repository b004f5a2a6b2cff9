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
        for name in names { out.append((name, try await channel.queueIfExists(name))) }
        return out
    }

    /// Closes the probing channel.
    public func close() async { await channel.close() }
}
