import Foundation
import WarrenAMQP

/// The broker's record of a dead-lettering, from the newest entry of the `x-death` header: for messages the
/// broker itself moved to a dead-letter queue (an AMQP `expiration` or queue TTL ran out, a reject without
/// requeue, a queue length limit, a quorum queue's delivery limit), which carry no `warren-*` dead-letter headers.
public struct BrokerDeath: Sendable, Hashable {
    /// RabbitMQ's reason: `expired`, `rejected`, `maxlen` or `delivery_limit`.
    public var reason: String
    /// The queue it died in.
    public var queue: String?
    /// When it died there (RabbitMQ records seconds).
    public var time: Date?
    /// How many times it died in that queue for that reason.
    public var count: Int

    /// The newest `x-death` entry of `headers`; `nil` when there is none.
    public init?(headers: FieldTable) {
        guard let newest = headers["x-death"]?.arrayValue?.first?.tableValue,
              let reason = HeaderValues.string(newest["reason"]), !reason.isEmpty
        else { return nil }
        self.reason = reason
        self.queue = HeaderValues.string(newest["queue"])
        self.time = HeaderValues.date(newest["time"])
        self.count = HeaderValues.int(newest["count"]) ?? 1
    }

    /// The reason as `warren dlq` shows it: `expired (broker)`.
    public var label: String { "\(reason) (broker)" }
}

/// What a dead letter that is not in Warren's format says about its job: Celery's `id`, `task` and `retries`
/// headers, or an ActiveJob body's `job_id`, `job_class` and `executions`.
struct ForeignJobFacts {
    var id: String?
    var job: String?
    var attempt: Int?

    init(properties: BasicProperties, body: [UInt8]) {
        let headers = properties.headers ?? [:]
        if let task = HeaderValues.string(headers[CeleryFormat.Header.task]), !task.isEmpty {
            id = HeaderValues.string(headers[CeleryFormat.Header.id])
            job = task
            attempt = HeaderValues.int(headers[CeleryFormat.Header.retries]).map { $0 + 1 }
        } else if let payload = ActiveJobPayload.identity(of: body) {
            id = payload.jobID
            job = payload.jobClass
            attempt = payload.executions.map { $0 + 1 }
        }
    }
}

extension DeadLetter {
    /// Expiry headers a requeue removes from an expired job, so it does not expire again at once: Warren's,
    /// and Celery's `expires` (the broker's `expiration` property goes too).
    static let expiryHeaders = [WireFormat.Header.expiresAt, CeleryFormat.Header.expires]

    /// Whether the letter was dead-lettered for `reason`: its ``reason`` as written, or, for one the broker
    /// dead-lettered, `broker` or the broker's own reason (`expired`, `rejected`, `maxlen`, `delivery_limit`).
    public func hasReason(_ reason: String) -> Bool {
        if reason == self.reason { return true }
        guard isBrokerDeadLetter, let death = brokerDeath else { return false }
        return reason == DeadLetterReason.broker.rawValue || reason == death.reason
    }

    /// Dead-lettered by the broker, not by a worker: it has `x-death` but no ``WireFormat/Header/deadReason``.
    public var isBrokerDeadLetter: Bool { brokerDeath != nil && headers[WireFormat.Header.deadReason] == nil }
}
