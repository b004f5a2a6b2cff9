import Foundation
import Synchronization
import Logging
import WarrenAMQP

/// Enqueues jobs with publisher confirms: `enqueue` returns once the broker has the job (persisted).
///
/// A job for a queue nobody declared fails with ``WarrenError/Code/unroutable`` instead of vanishing: the
/// producer checks each target queue once (passive declare, remembered for ``routeCheckInterval``) rather
/// than publishing `mandatory`, which costs RabbitMQ a quarter of its publish rate. A queue deleted between
/// check and publish cannot lose the job either: Warren's exchanges park unroutable messages in
/// `warren.unroutable`. A publish cut off by a lost connection is retried (same job id) until
/// ``publishTimeout``: a job may then arrive twice, never zero times.
public final class JobProducer: Sendable {
    /// The confirm-mode channel jobs are published on.
    public var channel: AMQPChannel { publisher.channel }
    /// Publishes with confirms, republishing through connection losses until ``publishTimeout``.
    public let publisher: ConfirmedPublisher
    /// The topology used for routing (priority lanes, delays).
    public let topology: Topology
    /// Largest body accepted, in bytes. Default 1 MiB; keep it equal to the workers' limit.
    public let maxMessageBytes: Int
    /// How long to keep retrying a publish cut off by a connection loss. Default 30 s.
    public var publishTimeout: Duration { publisher.republishFor }
    /// Trace context put on every job this producer enqueues (used for follow-up jobs).
    public let traceparent: String?
    /// Told the latency and outcome of every publish.
    public var observer: (any PublishObserver)? { publisher.observer }
    /// How long a queue found to exist is trusted before it is checked again. Default 30 s.
    public static let routeCheckInterval: Duration = .seconds(30)
    let routes: RouteCheck

    /// Opens a confirm channel on `connection`.
    public convenience init(connection: AMQPConnection, topology: Topology = Topology(), confirmWindow: Int = 1000,
                maxMessageBytes: Int = 1 << 20, publishTimeout: Duration = .seconds(30),
                observer: (any PublishObserver)? = nil) async throws(WarrenError) {
        let channel: AMQPChannel
        do {
            channel = try await connection.openChannel(confirmWindow: confirmWindow)
        } catch {
            throw WarrenError(error, "opening the producer channel")
        }
        let probe = QueueProbe(connection: connection)
        self.init(publisher: ConfirmedPublisher(channel: channel, republishFor: publishTimeout, observer: observer,
                                                capacity: QueueCapacity(topology: topology, probe: probe)),
                  topology: topology, maxMessageBytes: maxMessageBytes, traceparent: nil, routes: RouteCheck(probe: probe))
    }

    private init(publisher: ConfirmedPublisher, topology: Topology, maxMessageBytes: Int, traceparent: String?, routes: RouteCheck) {
        self.publisher = publisher
        self.topology = topology
        self.maxMessageBytes = maxMessageBytes
        self.traceparent = traceparent
        self.routes = routes
    }

    /// The same producer, stamping `traceparent` on what it enqueues.
    public func tracing(_ traceparent: String?) -> JobProducer {
        guard traceparent != self.traceparent else { return self }
        return JobProducer(publisher: publisher, topology: topology, maxMessageBytes: maxMessageBytes,
                           traceparent: traceparent, routes: routes)
    }

    /// Enqueues a typed job; returns its id.
    @discardableResult
    public func enqueue<P: JobParameters>(_ job: P, options: EnqueueOptions = EnqueueOptions()) async throws(WarrenError) -> String {
        try await enqueue(try JobRequest(job, options: options))
    }

    /// Enqueues a job by name with raw JSON arguments; returns its id.
    @discardableResult
    public func enqueue(name: String, arguments: [UInt8], options: EnqueueOptions = EnqueueOptions()) async throws(WarrenError) -> String {
        try await enqueue(JobRequest(name: name, arguments: arguments, options: options))
    }

    /// Enqueues one request; returns its id.
    ///
    /// Waits up to the request's deadline (``EnqueueOptions/timeout``, else ``publishTimeout``) while the broker
    /// blocks publishers, then fails with ``WarrenError/Code/brokerBlocked``. A queue at its length limit fails
    /// with ``WarrenError/Code/queueFull`` at once, or when ``EnqueueOptions/waitWhenFull`` is set, once the
    /// deadline passed without room. Other nacks are retried until the deadline (see ``NackDecision``).
    @discardableResult
    public func enqueue(_ request: JobRequest) async throws(WarrenError) -> String {
        let (id, message) = try build(request, mandatory: false)
        let rules = publisher.rules(request.options)
        try await publisher.waitWhileBlocked(until: rules.deadline, id: id, queue: request.options.queue)
        try await routes.verify(target(of: request))
        try await publisher.publish(message, id: id, queue: request.options.queue, rules: rules)
        return id
    }

    /// The queue a request is published to (its lane, for laned queues).
    func target(of request: JobRequest) -> String {
        topology.queue(named: request.options.queue).queue(forPriority: request.options.priority)
    }

    /// Builds the message for a request; `mandatory` when the target queue was not checked beforehand.
    func build(_ request: JobRequest, mandatory: Bool = true) throws(WarrenError) -> (String, OutgoingMessage) {
        try validate(request)
        let id = request.options.jobID ?? JobID.make()
        return (id, message(for: request, id: id, mandatory: mandatory))
    }

    /// Throws for a request no message can be made of: oversized arguments or no queue.
    func validate(_ request: JobRequest) throws(WarrenError) {
        guard request.arguments.count <= maxMessageBytes else {
            throw WarrenError(.oversized, "job '\(request.name)' arguments are \(request.arguments.count) bytes; the limit is \(maxMessageBytes)")
        }
        guard !request.options.queue.isEmpty else { throw WarrenError(.invalidInput, "queue name is empty") }
        if request.options.unique != nil { throw WarrenError(.invalidInput, StoreError.notConfigured("a unique job").message) }
    }

    /// The message for a valid request with job id `id`, enqueued now.
    func message(for request: JobRequest, id: String, mandatory: Bool) -> OutgoingMessage {
        let o = request.options
        let now = Date()
        let runAt = o.runAt ?? o.delay.map { now.addingTimeInterval($0.seconds) }
        let delayMS = runAt.map { UInt64(max(0, $0.timeIntervalSince(now) * 1000).rounded()) } ?? 0
        var headers = o.headers
        // A batch child goes in the compact form where it can (its id names the batch, no delay), else with the header.
        let compactChild = request.batch.map { delayMS == 0 && BatchRoute.isCompact(childID: id, batch: $0) } ?? false
        if let batch = request.batch, !compactChild { headers[WorkflowHeader.batch] = .string(batch) }
        if let traceparent, headers[WireFormat.Header.traceparent] == nil {
            headers[WireFormat.Header.traceparent] = .string(traceparent)
        }
        let properties = JobEnvelope.properties(
            name: request.name, id: id, enqueuedAt: now, maxAttempts: o.maxAttempts,
            runAt: delayMS > DelayRouting.maxDelayMilliseconds ? runAt : nil, expiresAt: o.expiresAt,
            priority: o.priority, correlationID: o.correlationID, headers: headers)
        let (exchange, key) = topology.route(queue: o.queue, priority: o.priority, delayMilliseconds: delayMS)
        return OutgoingMessage(exchange: compactChild ? WireFormat.batchExchange : exchange, routingKey: key, mandatory: mandatory,
                               properties: properties, body: request.arguments)
    }

    /// Publishes with confirm to the work queue `queue` (for errors and metrics), retrying through connection
    /// losses until ``publishTimeout``.
    func publish(_ message: OutgoingMessage, id: String, queue: String) async throws(WarrenError) {
        try await publisher.publish(message, id: id, queue: queue)
    }
}

/// Which queues exist, checked with passive declares on the producer's probe channel, and remembered for
/// ``JobProducer/routeCheckInterval``.
final class RouteCheck: Sendable {
    private let probe: QueueProbe
    private let verified = Mutex<[String: ContinuousClock.Instant]>([:])

    init(probe: QueueProbe) { self.probe = probe }

    func verify(_ queue: String) async throws(WarrenError) {
        let now = ContinuousClock.now
        if let at = verified.withLock({ $0[queue] }), now - at < JobProducer.routeCheckInterval { return }
        var missing = false
        do throws(AMQPError) {
            missing = try await probe.inspect(queue) == nil
        } catch {
            throw WarrenError(error, "checking queue '\(queue)'")
        }
        if missing {
            throw WarrenError(.unroutable, "queue '\(queue)' does not exist: declare the topology first (the worker does at start)")
        }
        verified.withLock { $0[queue] = now }
    }
}
