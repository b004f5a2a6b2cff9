import Foundation
import WarrenAMQP

/// How a dead letter is rewritten when it is sent back to work.
///
/// The job goes to its work queue (``WireFormat/Header/queue``, else the dead-letter queue's name without
/// `.dead`) or to ``destination``, routed like any job by ``Topology/route(queue:priority:delayMilliseconds:)``
/// (priority lanes, delay levels). Headers:
/// - ``WireFormat/Header/attempt`` is reset to 1, unless ``keepAttempts`` (then the job gets the attempts it
///   had left, usually none: one more failure dead-letters it again);
/// - ``WireFormat/Header/deadReason`` and ``WireFormat/Header/deadAt`` are removed, and so is the broker's
///   bookkeeping (`x-death`, `x-first-death-*`, `x-delivery-count`);
/// - the failure headers (error type and message, first/last failure, host, history) are kept: the job's
///   history says it failed before, and a further failure is appended to it;
/// - a job dead-lettered as `expired` (by a worker or by the broker) loses ``WireFormat/Header/expiresAt`` and
///   Celery's `expires` (it would expire again at once; the AMQP `expiration` property is always removed),
///   and ``WireFormat/Header/runAt`` is cleared (set again only for a delay longer than one pass of the levels);
/// - everything else (id, properties, unknown headers) is kept as it is.
public struct RequeueOptions: Sendable {
    /// Work queue to send the jobs to instead of their own.
    public var destination: String?
    /// Keep the attempt count instead of resetting it to 1.
    public var keepAttempts: Bool
    /// New arguments (JSON) replacing every selected job's body.
    public var arguments: [UInt8]?
    /// Delay before the jobs run again (through the delay levels).
    public var delay: Duration?
    /// The topology used for routing (lanes). Default: plain queues.
    public var topology: Topology

    /// Creates options; the default resets attempts and sends each job back to its own queue now.
    public init(destination: String? = nil, keepAttempts: Bool = false, arguments: [UInt8]? = nil,
                delay: Duration? = nil, topology: Topology = Topology(queues: [])) {
        self.destination = destination
        self.keepAttempts = keepAttempts
        self.arguments = arguments
        self.delay = delay
        self.topology = topology
    }

    /// Broker headers that describe a past dead-lettering, not the job.
    static let brokerHeaders = ["x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
                                "x-delivery-count"]

    /// The work queue `letter` goes to.
    public func target(for letter: DeadLetter) -> String { destination ?? letter.workQueue }

    /// The message that sends `letter` back to work.
    public func message(for letter: DeadLetter, now: Date = Date()) -> OutgoingMessage {
        let target = target(for: letter)
        var h = letter.headers
        // A batch child in the compact form that the broker dead-lettered names its batch only by the exchange
        // it was published to: it goes back in the header form, which every route keeps.
        if h[WorkflowHeader.batch] == nil, HeaderValues.string(h["x-first-death-exchange"]) == WireFormat.batchExchange {
            h[WorkflowHeader.batch] = BatchRoute.header(forChild: letter.properties.messageID)
        }
        for key in Self.brokerHeaders { h[key] = nil }
        h[WireFormat.Header.deadReason] = nil
        h[WireFormat.Header.deadAt] = nil
        h[WireFormat.Header.queue] = .string(target)
        if !keepAttempts { h[WireFormat.Header.attempt] = .int32(1) }
        if letter.hasReason(DeadLetterReason.expired.rawValue) { for key in DeadLetter.expiryHeaders { h[key] = nil } }
        let delayMS = delay.map { UInt64(max(0, $0.seconds * 1000).rounded()) } ?? 0
        h[WireFormat.Header.runAt] = nil
        if delayMS > DelayRouting.maxDelayMilliseconds, let delay {
            h[WireFormat.Header.runAt] = .milliseconds(now.addingTimeInterval(delay.seconds))
        }
        var properties = letter.properties
        properties.headers = h
        properties.expiration = nil
        if properties.persistent == nil { properties.persistent = true }
        var route = topology.route(queue: target, priority: properties.priority, delayMilliseconds: delayMS)
        // Straight to the queue through the default exchange, which has no alternate exchange: a missing queue
        // comes back as a return (an error, the job stays dead) instead of being parked in warren.unroutable.
        if route.exchange == WireFormat.workExchange { route.exchange = "" }
        return OutgoingMessage(exchange: route.exchange, routingKey: route.routingKey, mandatory: true,
                               properties: properties, body: arguments ?? letter.body)
    }
}
