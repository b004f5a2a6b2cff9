import WarrenAMQP

/// One durable queue as Warren declares it: name, arguments and the bindings that route jobs to it.
public struct QueueDeclaration: Sendable, Hashable {
    /// A binding of the queue to an exchange.
    public struct Binding: Sendable, Hashable {
        /// The exchange.
        public var exchange: String
        /// The routing key.
        public var routingKey: String
    }

    /// Queue name.
    public var name: String
    /// Declaration arguments (`x-max-priority`, `x-dead-letter-exchange`, `x-queue-type`...).
    public var arguments: FieldTable
    /// Where it is bound.
    public var bindings: [Binding]

    /// Declares the queue (durable) and its bindings. Fails with 406 PRECONDITION_FAILED when the queue
    /// exists with other arguments (see ``QueueMigration``).
    public func declare(on channel: AMQPChannel) async throws(AMQPError) {
        try await channel.declareQueue(name, durable: true, arguments: arguments)
        for b in bindings { try await channel.bindQueue(name, exchange: b.exchange, routingKey: b.routingKey) }
    }
}
