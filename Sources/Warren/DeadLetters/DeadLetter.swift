import Foundation
import WarrenAMQP

/// One message found in a dead-letter queue, read leniently: the Warren facts an operator filters and
/// sorts by, over the untouched properties and body (so that what is shown, exported or requeued is the
/// message as it is, unknown headers included).
public struct DeadLetter: Sendable {
    /// The dead-letter queue it was read from (`<queue>.dead`).
    public var deadLetterQueue: String
    /// Job id: `message_id`, else the foreign producer's (Celery's `id` header, ActiveJob's `job_id`); empty when
    /// the message has none.
    public var id: String
    /// Job name (``WireFormat/Header/job``), else the foreign producer's (Celery's `task`, ActiveJob's
    /// `job_class`); empty when the message names none.
    public var job: String
    /// Why it was dead-lettered (``WireFormat/Header/deadReason``), as written (may be unknown to this version);
    /// for a message the broker dead-lettered, its reason labelled `(broker)`, e.g. `expired (broker)`.
    public var reason: String?
    /// Type of the last error.
    public var errorType: String?
    /// Message of the last error.
    public var errorMessage: String?
    /// Attempt number of the delivery that failed last (``WireFormat/Header/attempt``, else Celery's `retries` + 1
    /// or ActiveJob's `executions` + 1, default 1).
    public var attempts: Int
    /// When it failed for good: ``WireFormat/Header/deadAt``, else the last failure time, else when the broker
    /// dead-lettered it.
    public var failedAt: Date?
    /// The work queue it belongs to: ``WireFormat/Header/queue``, else the dead-letter queue's work queue.
    public var workQueue: String
    /// The broker's record of dead-lettering it (newest `x-death` entry), when it has one.
    public var brokerDeath: BrokerDeath?
    /// Failure context and history, when the message carries one.
    public var failure: FailureRecord?
    /// Whether the broker delivered this message before (a browse or an interrupted run returned it).
    public var redelivered: Bool
    /// The exchange it was published to on its way into the dead-letter queue.
    public var exchange: String
    /// The routing key it was published with.
    public var routingKey: String
    /// The properties, all headers included, as read.
    public var properties: BasicProperties
    /// The body, as read.
    public var body: [UInt8]

    /// Headers, never nil.
    public var headers: FieldTable { properties.headers ?? [:] }

    /// Reads a message from dead-letter queue `deadLetterQueue`. Never fails: a message that is not a
    /// readable job still shows its headers and body.
    public init(deadLetterQueue: String, properties: BasicProperties, body: [UInt8], redelivered: Bool = false,
                exchange: String = "", routingKey: String = "") {
        let envelope = (try? JobEnvelope(properties: properties, body: body)) ?? JobEnvelope(unreadable: properties, body: body)
        let headers = properties.headers ?? [:]
        let failure = envelope.failure
        let foreign = envelope.name.isEmpty ? ForeignJobFacts(properties: properties, body: body) : nil
        let death = BrokerDeath(headers: headers)
        self.deadLetterQueue = deadLetterQueue
        self.id = properties.messageID.flatMap { $0.isEmpty ? nil : $0 } ?? foreign?.id ?? ""
        self.job = envelope.name.isEmpty ? foreign?.job ?? "" : envelope.name
        self.reason = HeaderValues.string(headers[WireFormat.Header.deadReason]) ?? death?.label
        self.errorType = failure?.errorType
        self.errorMessage = failure?.errorMessage
        self.attempts = headers[WireFormat.Header.attempt] == nil ? foreign?.attempt ?? envelope.attempt : envelope.attempt
        self.failedAt = HeaderValues.date(headers[WireFormat.Header.deadAt]) ?? failure?.lastFailedAt ?? death?.time
        self.workQueue = envelope.queue ?? DeadLetterQueues.workQueue(of: deadLetterQueue)
        self.brokerDeath = death
        self.failure = failure
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }

    /// Reads a delivery from dead-letter queue `deadLetterQueue`.
    public init(deadLetterQueue: String, delivery: AMQPDelivery) {
        self.init(deadLetterQueue: deadLetterQueue, properties: delivery.properties, body: delivery.body,
                  redelivered: delivery.redelivered, exchange: delivery.exchange, routingKey: delivery.routingKey)
    }
}
