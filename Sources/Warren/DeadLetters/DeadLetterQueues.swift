import Logging
import WarrenAMQP

/// Naming of dead-letter queues, and finding which of a list exist.
public enum DeadLetterQueues {
    /// The dead-letter queue for `name`: `name` itself when it already ends in `.dead`, else `<name>.dead`.
    public static func deadLetterQueue(for name: String) -> String {
        name.hasSuffix(".dead") ? name : WireFormat.deadLetterQueue(for: name)
    }

    /// The work queue a dead-letter queue belongs to (the name without `.dead`).
    public static func workQueue(of deadLetterQueue: String) -> String {
        deadLetterQueue.hasSuffix(".dead") ? String(deadLetterQueue.dropLast(".dead".count)) : deadLetterQueue
    }

    /// Connects for dead-letter work (browse, requeue, purge, export, import) with automatic recovery turned
    /// off, whatever `configuration` says: a lost connection must end the run (the broker then returns every
    /// message not acked) instead of carrying on with held deliveries that can no longer be acked. The CLI
    /// and the dashboard connect through here.
    public static func connect(_ configuration: AMQPConfiguration, logger: Logger) async throws(AMQPError) -> AMQPConnection {
        var config = configuration
        config.recovery.enabled = false
        return try await AMQPConnection.connect(config, logger: logger)
    }

    /// Probes each name's dead-letter queue with a passive declare and returns those that exist, with their
    /// ready-message counts, in the order given (duplicates removed). AMQP has no "list queues": callers pass
    /// the names (the CLI reads `--queue` and `WARREN_QUEUES`). A missing queue (404 closes the channel) is
    /// skipped and the channel reopened. With `exact`, names are probed as given (any queue).
    public static func existing(_ names: [String], on connection: AMQPConnection, exact: Bool = false) async throws(WarrenError) -> [QueueInfo] {
        let channel: AMQPChannel
        do { channel = try await connection.openChannel() } catch { throw WarrenError(error, "opening a channel") }
        var seen = Set<String>()
        var found: [QueueInfo] = []
        for name in names.map({ exact ? $0 : deadLetterQueue(for: $0) }) where seen.insert(name).inserted {
            do throws(AMQPError) {
                if let info = try await channel.queueIfExists(name) {
                    found.append(info)
                }
            } catch {
                await channel.close()
                throw WarrenError(error, "inspecting queue '\(name)'")
            }
        }
        await channel.close()
        return found
    }
}
