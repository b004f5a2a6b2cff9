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
    public let channel: AMQPChannel
    /// The topology used for routing (priority lanes, delays).
    public let topology: Topology
    /// Largest body accepted, in bytes. Default 1 MiB; keep it equal to the workers' limit.
    public let maxMessageBytes: Int
    /// How long to keep retrying a publish cut off by a connection loss. Default 30 s.
    public let publishTimeout: Duration
    /// Trace context put on every job this producer enqueues (used for follow-up jobs).
    public let traceparent: String?
    /// Told the latency and outcome of every publish.
    public let observer: (any PublishObserver)?
    /// How long a queue found to exist is trusted before it is checked again. Default 30 s.
    public static let routeCheckInterval: Duration = .seconds(30)
    let routes: RouteCheck

    /// Opens a confirm channel on `connection`.
    public init(connection: AMQPConnection, topology: Topology = Topology(), confirmWindow: Int = 1000,
                maxMessageBytes: Int = 1 << 20, publishTimeout: Duration = .seconds(30),
                observer: (any PublishObserver)? = nil) async throws(WarrenError) {
        do {
            self.channel = try await connection.openChannel(confirmWindow: confirmWindow)
        } catch {
            throw WarrenError(error, "opening the producer channel")
        }
        self.topology = topology
        self.maxMessageBytes = maxMessageBytes
        self.publishTimeout = publishTimeout
        self.traceparent = nil
        self.observer = observer
        self.routes = RouteCheck(connection: connection)
    }

    private init(channel: AMQPChannel, topology: Topology, maxMessageBytes: Int, publishTimeout: Duration,
                 traceparent: String?, observer: (any PublishObserver)?, routes: RouteCheck) {
        self.channel = channel
        self.topology = topology
        self.maxMessageBytes = maxMessageBytes
        self.publishTimeout = publishTimeout
        self.traceparent = traceparent
        self.observer = observer
        self.routes = routes
    }

    /// The same producer, stamping `traceparent` on what it enqueues.
    public func tracing(_ traceparent: String?) -> JobProducer {
        guard traceparent != self.traceparent else { return self }
        return JobProducer(channel: channel, topology: topology, maxMessageBytes: maxMessageBytes,
                           publishTimeout: publishTimeout, traceparent: traceparent, observer: observer, routes: routes)
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
    @discardableResult
    public func enqueue(_ request: JobRequest) async throws(WarrenError) -> String {
        let (id, message) = try build(request, mandatory: false)
        try await routes.verify(target(of: request))
        try await publish(message, id: id, queue: request.options.queue)
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
        if let traceparent, headers[WireFormat.Header.traceparent] == nil {
            headers[WireFormat.Header.traceparent] = .string(traceparent)
        }
        let properties = JobEnvelope.properties(
            name: request.name, id: id, enqueuedAt: now, maxAttempts: o.maxAttempts,
            runAt: delayMS > DelayRouting.maxDelayMilliseconds ? runAt : nil, expiresAt: o.expiresAt,
            priority: o.priority, correlationID: o.correlationID, headers: headers)
        let (exchange, key) = topology.route(queue: o.queue, priority: o.priority, delayMilliseconds: delayMS)
        return OutgoingMessage(exchange: exchange, routingKey: key, mandatory: mandatory, properties: properties, body: request.arguments)
    }

    /// Publishes with confirm, retrying through connection losses until ``publishTimeout``.
    /// Publishes to the work queue `queue` (for errors and metrics), retrying through connection losses.
    func publish(_ message: OutgoingMessage, id: String, queue: String) async throws(WarrenError) {
        let started = ContinuousClock.now
        do throws(WarrenError) {
            try await publishRetrying(message, id: id, queue: queue, started: started)
            report(queue, since: started, ok: true)
        } catch {
            report(queue, since: started, ok: false)
            throw error
        }
    }

    private func report(_ queue: String, since started: ContinuousClock.Instant, ok: Bool) {
        observer?.published(queue: queue, duration: ContinuousClock.now - started, ok: ok)
    }

    private func publishRetrying(_ message: OutgoingMessage, id: String, queue: String, started: ContinuousClock.Instant) async throws(WarrenError) {
        let deadline = started + publishTimeout
        var attempt = 0
        while true {
            let outcome: PublishOutcome
            do throws(AMQPError) {
                outcome = try await channel.publish(message)
            } catch where error.code == .connectionLost && ContinuousClock.now < deadline {
                attempt += 1
                await Self.pauseBeforeRepublishing(attempt: attempt)
                continue
            } catch {
                throw WarrenError(error, "enqueueing job \(id)")
            }
            try Self.check(outcome, id: id, queue: queue).get()
            return
        }
    }

    /// Waits before publishing again what a lost connection cut off, while the connection recovers: 50 ms
    /// more per attempt, at most 1 s (single jobs and batches alike, until ``publishTimeout``).
    static func pauseBeforeRepublishing(attempt: Int) async {
        try? await Task.sleep(for: .milliseconds(min(1000, 50 * attempt)))
    }

    /// ``check(_:id:queue:)`` for a message whose queue is named by its header or routing key.
    static func check(_ outcome: PublishOutcome, id: String, message: OutgoingMessage) -> Result<Void, WarrenError> {
        check(outcome, id: id, queue: HeaderValues.string(message.properties.headers?[WireFormat.Header.queue]) ?? message.routingKey)
    }

    static func check(_ outcome: PublishOutcome, id: String, queue: String) -> Result<Void, WarrenError> {
        switch outcome {
        case .acked, .sent: return .success(())
        case .nacked: return .failure(WarrenError(.nacked, "the broker refused job \(id) (queue full or broker error)"))
        case .returned(let code, let text):
            return .failure(WarrenError(.unroutable, "job \(id) was not routed to any queue (\(code) \(text)): is queue '\(queue)' declared?"))
        }
    }
}

/// Which queues exist, checked with passive declares on a channel of its own (a 404 closes it), and
/// remembered for ``JobProducer/routeCheckInterval``.
final class RouteCheck: Sendable {
    private let connection: AMQPConnection
    private let state = Mutex<(channel: AMQPChannel?, verified: [String: ContinuousClock.Instant])>((nil, [:]))

    init(connection: AMQPConnection) { self.connection = connection }

    func verify(_ queue: String) async throws(WarrenError) {
        let now = ContinuousClock.now
        if let at = state.withLock({ $0.verified[queue] }), now - at < JobProducer.routeCheckInterval { return }
        var missing = false
        do throws(AMQPError) {
            let channel = try await probeChannel()
            missing = try await channel.unlessRefused(404, { () async throws(AMQPError) in try await channel.inspectQueue(queue) }) == nil
        } catch {
            throw WarrenError(error, "checking queue '\(queue)'")
        }
        if missing {
            throw WarrenError(.unroutable, "queue '\(queue)' does not exist: declare the topology first (the worker does at start)")
        }
        state.withLock { $0.verified[queue] = now }
    }

    private func probeChannel() async throws(AMQPError) -> AMQPChannel {
        if let channel = state.withLock({ $0.channel }) { return channel }
        let channel = try await connection.openChannel()
        return state.withLock { s in
            if let existing = s.channel { return existing }
            s.channel = channel
            return channel
        }
    }
}
