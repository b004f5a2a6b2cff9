/// An AMQP channel. Safe to use from any task; operations run in order on the connection's I/O thread.
///
/// When the broker closes the channel (a 404 on declare, a 406 on an unknown delivery tag, ...), operations
/// throw ``AMQPError/Code/channelClosed`` with the broker's reply code and text until ``reopen()`` is called.
/// After a connection loss the channel is reopened automatically by recovery.
public final class AMQPChannel: Sendable {
    /// The connection this channel belongs to (kept alive by the channel).
    public let connection: AMQPConnection
    /// The channel number.
    public let id: UInt16
    var mailbox: Mailbox { connection.mailbox }

    init(connection: AMQPConnection, id: UInt16) {
        self.connection = connection
        self.id = id
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (ConnectionCore, UInt16) throws(AMQPError) -> T) async throws(AMQPError) -> T {
        let id = self.id
        return try await mailbox.call { core throws(AMQPError) in try body(core, id) }
    }

    // MARK: exchanges

    /// Declares an exchange (idempotent when the settings match; 406 when they differ).
    /// Recorded for recovery unless `recordForRecovery` is false.
    public func declareExchange(_ name: String, type: ExchangeType = .direct, durable: Bool = true,
                                autoDelete: Bool = false, isInternal: Bool = false, arguments: FieldTable = [:],
                                recordForRecovery: Bool = true) async throws(AMQPError) {
        _ = try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            return try core.declare(.exchange(name: name, type: type.rawValue, durable: durable, autoDelete: autoDelete,
                                              internal: isInternal, arguments: arguments), on: id, record: recordForRecovery)
        }
    }

    /// Checks that an exchange exists (passive declare); throws a 404 channel error if not.
    public func inspectExchange(_ name: String) async throws(AMQPError) {
        try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            try core.inspectExchange(id, name)
        }
    }

    /// Deletes an exchange.
    public func deleteExchange(_ name: String, ifUnused: Bool = false) async throws(AMQPError) {
        try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            try core.deleteExchange(id, name, ifUnused: ifUnused)
        }
    }

    /// Binds exchange `destination` to `source` (RabbitMQ exchange-to-exchange binding).
    public func bindExchange(destination: String, source: String, routingKey: String,
                             arguments: FieldTable = [:], recordForRecovery: Bool = true) async throws(AMQPError) {
        _ = try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            return try core.declare(.exchangeBinding(destination: destination, source: source, routingKey: routingKey,
                                                     arguments: arguments), on: id, record: recordForRecovery)
        }
    }

    /// Removes an exchange-to-exchange binding.
    public func unbindExchange(destination: String, source: String, routingKey: String,
                               arguments: FieldTable = [:]) async throws(AMQPError) {
        try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            try core.unbindExchange(id, destination: destination, source: source, routingKey: routingKey, arguments: arguments)
        }
    }

    // MARK: queues

    /// Declares a queue and returns its name and counts. An empty name asks the broker to generate one.
    @discardableResult
    public func declareQueue(_ name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
                             arguments: FieldTable = [:], recordForRecovery: Bool = true) async throws(AMQPError) -> QueueInfo {
        try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            return try core.declare(.queue(name: name, durable: durable, exclusive: exclusive, autoDelete: autoDelete,
                                           arguments: arguments), on: id, record: recordForRecovery)!
        }
    }

    /// Passive declare: the queue's message and consumer counts; throws a 404 channel error if it does not exist.
    public func inspectQueue(_ name: String) async throws(AMQPError) -> QueueInfo {
        try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            return try core.inspectQueue(id, name)
        }
    }

    /// Binds a queue to an exchange.
    public func bindQueue(_ queue: String, exchange: String, routingKey: String, arguments: FieldTable = [:],
                          recordForRecovery: Bool = true) async throws(AMQPError) {
        _ = try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            return try core.declare(.queueBinding(queue: queue, exchange: exchange, routingKey: routingKey,
                                                  arguments: arguments), on: id, record: recordForRecovery)
        }
    }

    /// Removes a queue binding.
    public func unbindQueue(_ queue: String, exchange: String, routingKey: String, arguments: FieldTable = [:]) async throws(AMQPError) {
        try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            try core.unbindQueue(id, queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments)
        }
    }

    /// Removes every ready message from a queue; returns how many.
    @discardableResult
    public func purgeQueue(_ name: String) async throws(AMQPError) -> UInt32 {
        try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            return try core.purgeQueue(id, name)
        }
    }

    /// Deletes a queue; returns how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String, ifUnused: Bool = false, ifEmpty: Bool = false) async throws(AMQPError) -> UInt32 {
        try await run { core, id throws(AMQPError) in
            _ = try core.requireChannel(id)
            return try core.deleteQueue(id, name, ifUnused: ifUnused, ifEmpty: ifEmpty)
        }
    }

    // MARK: flow

    /// Limits unacknowledged deliveries (`basic.qos`): per consumer, or per channel with `global`
    /// (never use `global` with quorum queues: RabbitMQ closes the connection). Restored on recovery.
    public func qos(prefetchCount: UInt16, global: Bool = false) async throws(AMQPError) {
        try await run { core, id throws(AMQPError) in try core.setQoS(id, prefetchCount: prefetchCount, global: global) }
    }

    /// Reopens the channel after the broker closed it, restoring qos and confirm mode. Consumers that were on
    /// it are gone (their streams ended with the close error): consume again.
    public func reopen() async throws(AMQPError) {
        try await run { core, id throws(AMQPError) in
            if core.stopping { throw Mailbox.closedError }
            guard let ch = core.channels[id] else { throw AMQPError(.protocolError, "channel \(id) was closed by the application") }
            try core.reopen(ch)
        }
    }

    /// Runs `operation` on this channel, taking a refusal with `replyCode` as an answer: `nil` when the broker
    /// closed the channel with that code (404 NOT_FOUND for a passive declare of something missing, 406
    /// PRECONDITION_FAILED for a declare with other arguments or a delete of a non-empty queue), after
    /// reopening the channel. Any other error is thrown.
    public func unlessRefused<T>(_ replyCode: UInt16, _ operation: () async throws(AMQPError) -> T) async throws(AMQPError) -> T? {
        do throws(AMQPError) {
            return try await operation()
        } catch where error.code == .channelClosed && error.replyCode == replyCode {
            try await reopen()
            return nil
        }
    }

    /// The queue's ready-message and consumer counts (a passive declare), or `nil` when no queue of that name
    /// exists (the broker's 404 closes the channel; it is reopened). The one "does this queue exist".
    public func queueIfExists(_ name: String) async throws(AMQPError) -> QueueInfo? {
        try await unlessRefused(404) { () async throws(AMQPError) in try await inspectQueue(name) }
    }

    /// Why the broker closed this channel, if it did and it has not been reopened.
    public var closeReason: AMQPError? {
        get async { try? await run { core, id in core.channels[id]?.closeError } }
    }

    /// Closes the channel for good.
    public func close() async {
        _ = try? await run { core, id in core.closeChannel(id) }
    }
}

/// An exchange type name.
public struct ExchangeType: RawRepresentable, Sendable, Hashable {
    /// The broker's name for the type.
    public var rawValue: String
    /// Creates a type from its name (e.g. a plugin's).
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Routes by exact routing key.
    public static let direct = ExchangeType(rawValue: "direct")
    /// Routes to every bound queue.
    public static let fanout = ExchangeType(rawValue: "fanout")
    /// Routes by routing-key pattern (`*` one word, `#` zero or more).
    public static let topic = ExchangeType(rawValue: "topic")
    /// Routes by header values.
    public static let headers = ExchangeType(rawValue: "headers")
}
