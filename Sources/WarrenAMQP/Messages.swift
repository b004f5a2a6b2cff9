/// A message to publish: where it goes, its properties and its body.
public struct OutgoingMessage: Sendable, Hashable {
    /// Exchange name; `""` is the default exchange (routing key = queue name).
    public var exchange: String
    /// Routing key.
    public var routingKey: String
    /// Ask the broker to return the message (``PublishOutcome/returned(replyCode:replyText:)``) if no queue takes it.
    public var mandatory: Bool
    /// Content properties.
    public var properties: BasicProperties
    /// Body bytes, sent as-is.
    public var body: [UInt8]

    /// Creates a message.
    public init(exchange: String = "", routingKey: String, mandatory: Bool = false,
                properties: BasicProperties = BasicProperties(), body: [UInt8]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.mandatory = mandatory
        self.properties = properties
        self.body = body
    }
}

/// What the broker said about a published message.
public enum PublishOutcome: Sendable, Hashable {
    /// Confirmed: the broker has taken responsibility (persisted, for persistent messages to durable queues).
    case acked
    /// The broker refused it (e.g. `x-overflow=reject-publish` on a full queue, or an internal error).
    case nacked
    /// Mandatory and unroutable: no queue was bound for it (312 NO_ROUTE); the broker then confirms it.
    case returned(replyCode: UInt16, replyText: String)
    /// Sent on a channel without confirms: written to the socket, nothing more is known.
    case sent
}

/// A message received from the broker, by a consumer or `basic.get`. Its data is a Swift copy: it stays
/// valid after the library's buffers are recycled, and may be sent anywhere.
///
/// Settle it exactly once with ``ack(multiple:)``, ``nack(requeue:multiple:)`` or ``reject(requeue:)``.
/// A delivery received on a connection or channel that has since been lost cannot be settled: those
/// calls throw ``AMQPError/Code/staleDelivery`` and the broker has already requeued the message.
public struct AMQPDelivery: Sendable {
    /// The fields, boxed once: a delivery is handed from the I/O thread through buffers to a job, and a
    /// copy of the box is one reference count instead of one per string, table and array inside.
    private final class Storage: Sendable {
        let consumerTag: String
        let deliveryTag: UInt64
        let redelivered: Bool
        let exchange: String
        let routingKey: String
        let properties: BasicProperties
        let body: [UInt8]
        let messageCount: UInt32?
        let settler: DeliverySettler?

        init(consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String,
             properties: BasicProperties, body: [UInt8], messageCount: UInt32?, settler: DeliverySettler?) {
            self.consumerTag = consumerTag
            self.deliveryTag = deliveryTag
            self.redelivered = redelivered
            self.exchange = exchange
            self.routingKey = routingKey
            self.properties = properties
            self.body = body
            self.messageCount = messageCount
            self.settler = settler
        }
    }

    private let storage: Storage

    /// Consumer tag, or `""` for `basic.get`.
    public var consumerTag: String { storage.consumerTag }
    /// Delivery tag, unique within its channel incarnation.
    public var deliveryTag: UInt64 { storage.deliveryTag }
    /// The broker has delivered this message before (to this or another consumer) without an ack.
    public var redelivered: Bool { storage.redelivered }
    /// Exchange the message was published to.
    public var exchange: String { storage.exchange }
    /// Routing key it was published with.
    public var routingKey: String { storage.routingKey }
    /// Content properties.
    public var properties: BasicProperties { storage.properties }
    /// Body bytes.
    public var body: [UInt8] { storage.body }
    /// For `basic.get`: messages left in the queue after this one.
    public var messageCount: UInt32? { storage.messageCount }
    var settler: DeliverySettler? { storage.settler }

    init(consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String,
         properties: BasicProperties, body: [UInt8], messageCount: UInt32?, settler: DeliverySettler?) {
        storage = Storage(consumerTag: consumerTag, deliveryTag: deliveryTag, redelivered: redelivered, exchange: exchange,
                          routingKey: routingKey, properties: properties, body: body, messageCount: messageCount,
                          settler: settler)
    }

    /// The same delivery (settled as one: same tag, same channel) with other `properties`: for a reader
    /// that makes explicit what the publisher left implicit. Copies the fields into a new box.
    public func with(properties: BasicProperties) -> AMQPDelivery {
        AMQPDelivery(consumerTag: consumerTag, deliveryTag: deliveryTag, redelivered: redelivered, exchange: exchange,
                     routingKey: routingKey, properties: properties, body: body, messageCount: messageCount, settler: settler)
    }

    /// Acknowledges the message (and, with `multiple`, every earlier unsettled one on its channel).
    /// Never waits for the I/O thread: the ack is marked and written by the I/O thread within its current loop
    /// turn, coalesced with acks from other tasks into `multiple` acks where safe. If the connection dies before
    /// it is written, the broker redelivers the message (at-least-once). Runs in the caller's isolation
    /// (`nonisolated(nonsending)`): no executor hop per ack.
    nonisolated(nonsending) public func ack(multiple: Bool = false) async throws {
        try await settle(.ack(multiple: multiple))
    }

    /// ``ack(multiple:)`` for a caller that cannot suspend (a completion handler): the same marking for the
    /// I/O thread, which never waits either.
    public func ackNow(multiple: Bool = false) throws(AMQPError) {
        guard let settler else { return }  // no-ack consumer: nothing to settle
        try settler.ack(deliveryTag, multiple: multiple)
    }

    /// Negatively acknowledges the message: back to the queue with `requeue`, else dead-lettered or dropped.
    public func nack(requeue: Bool, multiple: Bool = false) async throws {
        try await settle(.nack(requeue: requeue, multiple: multiple))
    }

    /// Rejects the message: back to the queue with `requeue`, else dead-lettered or dropped.
    public func reject(requeue: Bool) async throws {
        try await settle(.reject(requeue: requeue))
    }

    nonisolated(nonsending) private func settle(_ how: Settlement) async throws {
        guard let settler else { return }  // no-ack consumer: nothing to settle
        try await settler.settle(tag: deliveryTag, how)
    }
}

/// How a delivery is settled.
enum Settlement: Sendable {
    case ack(multiple: Bool)
    case nack(requeue: Bool, multiple: Bool)
    case reject(requeue: Bool)
}

/// What the broker reported when a queue was declared (or passively inspected).
public struct QueueInfo: Sendable, Hashable {
    /// The queue's name (generated by the broker when declared with an empty name).
    public var name: String
    /// Messages ready for delivery.
    public var messageCount: UInt32
    /// Active consumers.
    public var consumerCount: UInt32

    /// Creates a report (the broker's, or a test's).
    public init(name: String, messageCount: UInt32, consumerCount: UInt32) {
        self.name = name
        self.messageCount = messageCount
        self.consumerCount = consumerCount
    }
}
