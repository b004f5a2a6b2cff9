import Logging

/// A connection to a RabbitMQ broker, with automatic recovery.
///
/// ## Threading
/// Each connection owns one dedicated I/O thread, the only thread that ever calls librabbitmq-c for it (the
/// library forbids sharing a connection). All methods here, and on its channels and deliveries, are safe from
/// any thread or task: they post work to that thread's mailbox and await the result. Heartbeats are
/// answered by the I/O thread however long the application's jobs run, since jobs never run on it.
///
/// ## Recovery
/// When the connection is lost and ``RecoveryPolicy/enabled`` is set, the I/O thread reconnects with backoff
/// and jitter (trying the next configured endpoint each time), re-declares the topology declared through
/// this connection's channels, reopens channels with their qos and confirm mode, and resumes consumers under
/// their tags: consumer streams go on. Publishes awaiting a confirm when the connection died fail with
/// ``AMQPError/Code/connectionLost`` (the outcome is unknown: publish again); deliveries from the dead
/// connection can no longer be acked (``AMQPError/Code/staleDelivery``), as the broker requeues them.
public final class AMQPConnection: Sendable {
    /// The configuration this connection was made with.
    public let configuration: AMQPConfiguration
    let core: ConnectionCore
    var mailbox: Mailbox { core.mailbox }

    private init(configuration: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        self.core = ConnectionCore(config: configuration, logger: logger, shared: ConnectionShared())
    }

    /// Connects to the first endpoint that answers. Fails at once, with a distinct error, if none does:
    /// ``AMQPError/Code/connectFailed`` (refused or unreachable), ``AMQPError/Code/timeout``,
    /// ``AMQPError/Code/authenticationFailed``, ``AMQPError/Code/accessRefused`` or ``AMQPError/Code/tlsFailure``.
    public static func connect(_ configuration: AMQPConfiguration,
                               logger: Logger = Logger(label: "warren.amqp")) async throws(AMQPError) -> AMQPConnection {
        let connection = AMQPConnection(configuration: configuration, logger: logger)
        connection.core.start()
        do {
            try await connection.mailbox.call { core throws(AMQPError) in try core.connectInitially() }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Connects using a URL (see ``AMQPConfiguration/init(url:)``).
    public static func connect(url: String, logger: Logger = Logger(label: "warren.amqp")) async throws(AMQPError) -> AMQPConnection {
        try await connect(try AMQPConfiguration(url: url), logger: logger)
    }

    /// Opens a channel. With `confirmWindow`, the channel is in publisher-confirm mode and keeps at most that
    /// many publishes unconfirmed at once (more wait, in order, inside the I/O thread).
    public func openChannel(confirmWindow: Int? = nil) async throws(AMQPError) -> AMQPChannel {
        let id = try await mailbox.call { core throws(AMQPError) in try core.openChannel(confirmWindow: confirmWindow) }
        return AMQPChannel(connection: self, id: id)
    }

    /// Closes the connection (`connection.close`) and stops its I/O thread. Consumer streams finish;
    /// pending operations fail with ``AMQPError/Code/closedByClient``. Idempotent.
    public func close() async {
        _ = try? await mailbox.call { core in core.shutdown() }
    }

    /// Runs `body` with this connection, then closes it, whether `body` returned or threw.
    public func closing<T>(after body: (AMQPConnection) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await close()
            return result
        } catch {
            await close()
            throw error
        }
    }

    /// Whether the connection is up now (false while recovering).
    public var isConnected: Bool { core.shared.update { $0.connected } }

    /// Whether the broker has blocked publishing on this connection (resource alarm).
    public var isBlocked: Bool { core.shared.update { $0.blocked } }

    /// A new stream of this connection's events (lost, recovered, blocked, ...). Ends when the connection closes.
    public func events() -> AsyncStream<ConnectionEvent> { core.shared.events() }

    deinit {
        mailbox.post { core in core.shutdown() }
    }
}
