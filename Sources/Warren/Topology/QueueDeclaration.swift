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
    /// exists with other arguments (see ``QueueMigration``), with one exception: a declaration that asks for
    /// no priority takes a queue that exists with one (`x-max-priority`, e.g. declared by a Warren from before
    /// priority became opt-in) as it is, provided its other arguments match. Priority only reorders waiting
    /// jobs, so nothing a worker or producer does depends on its absence.
    public func declare(on channel: AMQPChannel) async throws(AMQPError) {
        do {
            try await channel.declareQueue(name, durable: true, arguments: arguments)
        } catch {
            guard arguments["x-max-priority"] == nil, let existing = Self.existingPriority(refusal: error) else { throw error }
            try await channel.reopen()
            var adopted = arguments
            adopted["x-max-priority"] = .int32(existing)
            try await channel.declareQueue(name, durable: true, arguments: adopted)  // the other arguments still checked
        }
        for b in bindings { try await channel.bindQueue(name, exchange: b.exchange, routingKey: b.routingKey) }
    }

    /// The `x-max-priority` an existing queue has, read from the broker's refusal of a declaration without
    /// one (`406 PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue 'q' in vhost '/': received
    /// none but current is the value '10' of type 'signedint'`); `nil` for any other error. Pure.
    static func existingPriority(refusal error: AMQPError) -> Int32? {
        guard error.code == .channelClosed, error.replyCode == 406, let text = error.replyText,
              text.contains("inequivalent arg 'x-max-priority'"), text.contains("received none"),
              let marker = text.range(of: "current is the value '") else { return nil }
        let digits = text[marker.upperBound...].prefix { $0.isNumber }
        guard let value = Int32(digits), (1...255).contains(value) else { return nil }
        return value
    }
}
