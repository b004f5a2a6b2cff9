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
    /// exists with other arguments (see ``QueueMigration``), with two exceptions, each taking the queue as it
    /// is provided its other arguments match: a declaration that asks for no priority takes a queue that
    /// exists with one (`x-max-priority`, e.g. declared by a Warren from before priority became opt-in), and
    /// any declaration takes a queue whatever its `x-queue-mode` (`lazy` or not, e.g. declared before the
    /// deployment chose ``Topology/ClassicQueueMode/lazy``, or by an operator or another system that chose
    /// otherwise). Priority only reorders waiting
    /// jobs and the mode only where the broker keeps them, so nothing a worker or producer does depends on
    /// either.
    public func declare(on channel: AMQPChannel) async throws(AMQPError) {
        var attempt = arguments
        for tries in 1... {
            do {
                try await channel.declareQueue(name, durable: true, arguments: attempt)
                break
            } catch {
                // At most one adoption per argument: a third refusal is about something else.
                guard tries < 3, let adopted = Self.adopting(refusal: error, arguments: attempt) else { throw error }
                try await channel.reopen()
                attempt = adopted
            }
        }
        for b in bindings { try await channel.bindQueue(name, exchange: b.exchange, routingKey: b.routingKey) }
    }

    /// `arguments` changed to take the existing queue the broker's refusal describes, or `nil` when the
    /// refusal is about anything else than an argument Warren may adopt (see ``declare(on:)``). Pure.
    static func adopting(refusal error: AMQPError, arguments: FieldTable) -> FieldTable? {
        var adopted = arguments
        if arguments["x-max-priority"] == nil, let existing = existingPriority(refusal: error) {
            adopted["x-max-priority"] = .int32(existing)
        } else if let mode = existingQueueMode(refusal: error) {
            adopted["x-queue-mode"] = mode.map { .string($0) }
        } else {
            return nil
        }
        return adopted == arguments ? nil : adopted
    }

    /// The `x-queue-mode` an existing queue has, read from the broker's refusal of a declaration with
    /// another (`406 PRECONDITION_FAILED - inequivalent arg 'x-queue-mode' for queue 'q' in vhost '/': received
    /// the value 'lazy' of type 'longstr' but current is none`, `... received none but current is the value
    /// 'lazy' of type 'longstr'`, `... received 'default' but current is 'lazy'`): `.some(nil)` when it has
    /// none, `nil` for any other error. Pure.
    static func existingQueueMode(refusal error: AMQPError) -> String?? {
        guard let current = existingValue(of: "x-queue-mode", refusal: error) else { return nil }
        guard let mode = current else { return .some(nil) }
        return ["lazy", "default"].contains(mode) ? .some(mode) : nil
    }

    /// The `x-max-priority` an existing queue has, read from the broker's refusal of a declaration without
    /// one (`406 PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue 'q' in vhost '/': received
    /// none but current is the value '10' of type 'signedint'`); `nil` for any other error. Pure.
    static func existingPriority(refusal error: AMQPError) -> Int32? {
        guard error.replyText?.contains("received none") == true,
              case let digits?? = existingValue(of: "x-max-priority", refusal: error),
              let value = Int32(digits), (1...255).contains(value) else { return nil }
        return value
    }

    /// What the broker's 406 refusal of a declaration says the existing queue has for `argument` (`... but
    /// current is none`, `... but current is the value 'V' of type 'T'`, `... but current is 'V'`): `.some(nil)`
    /// for none, `nil` when the refusal is not about that argument. Pure.
    private static func existingValue(of argument: String, refusal error: AMQPError) -> String?? {
        guard error.code == .channelClosed, error.replyCode == 406, let text = error.replyText,
              text.contains("inequivalent arg '\(argument)'"),
              let marker = text.range(of: "but current is ", options: .backwards) else { return nil }
        let current = text[marker.upperBound...]
        if current.hasPrefix("none") { return .some(nil) }
        let quoted = current.hasPrefix("the value '") ? current.dropFirst("the value '".count) : current.dropFirst()
        return .some(String(quoted.prefix { $0 != "'" }))
    }
}
