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

    /// Enqueues many jobs with up to the confirm window in flight; returns each one's id or error, in order.
    /// Messages are built in chunks while earlier chunks are already on their way, in publish order.
    public func enqueue(batch requests: [JobRequest]) async -> [Result<String, WarrenError>] {
        var results = [Result<String, WarrenError>?](repeating: nil, count: requests.count)
        let targets = requests.map(target(of:))
        var distinct = Set<String>()
        var previous: String?
        for target in targets where target != previous {  // a batch mostly goes to one queue: hash it once
            distinct.insert(target)
            previous = target
        }
        var unroutable: [String: WarrenError] = [:]
        for target in distinct {
            do throws(WarrenError) { try await routes.verify(target) } catch { unroutable[target] = error }
        }
        typealias Chunk = (batch: PublishBatch, slots: [(index: Int, id: String)], messages: [OutgoingMessage])
        var inFlight: [Chunk] = []
        let started = ContinuousClock.now
        func settle(_ chunk: Chunk) async {
            let outcomes = await chunk.batch.outcomes()
            let elapsed = observer == nil ? nil : ContinuousClock.now - started  // once per chunk
            for (k, outcome) in outcomes.enumerated() {
                let (index, id) = chunk.slots[k]
                let queue = requests[index].options.queue
                if case .success = outcome, let elapsed { observer?.published(queue: queue, duration: elapsed, ok: true) }
                switch outcome {
                case .success(let o):
                    results[index] = Self.check(o, id: id, queue: queue).map { id }
                case .failure(let error) where error.code == .connectionLost:
                    // Outcome unknown: publish again on the recovered connection (at-least-once).
                    do throws(WarrenError) {
                        try await publish(chunk.messages[k], id: id, queue: queue)
                        results[index] = .success(id)
                    } catch {
                        results[index] = .failure(error)
                    }
                case .failure(let error):
                    results[index] = .failure(WarrenError(error, "enqueueing job \(id)"))
                }
            }
        }
        var start = 0
        while start < requests.count {
            let end = min(requests.count, start + Self.chunkSize)
            var messages: [OutgoingMessage] = []
            var slots: [(index: Int, id: String)] = []
            messages.reserveCapacity(end - start)
            for i in start..<end {
                if !unroutable.isEmpty, let error = unroutable[targets[i]] {
                    results[i] = .failure(error)
                    continue
                }
                do throws(WarrenError) {
                    let (id, message) = try build(requests[i], mandatory: false)
                    messages.append(message)
                    slots.append((i, id))
                } catch {
                    results[i] = .failure(error)
                }
            }
            inFlight.append((channel.beginPublishing(messages), slots, messages))
            if inFlight.count > Self.chunksInFlight { await settle(inFlight.removeFirst()) }
            start = end
        }
        for chunk in inFlight { await settle(chunk) }
        return results.map { $0! }
    }

    /// The queue a request is published to (its lane, for laned queues).
    private func target(of request: JobRequest) -> String {
        topology.queue(named: request.options.queue).queue(forPriority: request.options.priority)
    }

    /// Jobs built per chunk of a batch, and chunks handed to the I/O thread ahead of their confirms.
    static let chunkSize = 500
    static let chunksInFlight = 4

    /// Builds the message for a request; `mandatory` when the target queue was not checked beforehand.
    func build(_ request: JobRequest, mandatory: Bool = true) throws(WarrenError) -> (String, OutgoingMessage) {
        let o = request.options
        guard request.arguments.count <= maxMessageBytes else {
            throw WarrenError(.oversized, "job '\(request.name)' arguments are \(request.arguments.count) bytes; the limit is \(maxMessageBytes)")
        }
        guard !o.queue.isEmpty else { throw WarrenError(.invalidInput, "queue name is empty") }
        let now = Date()
        let id = o.jobID ?? JobID.make()
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
        return (id, OutgoingMessage(exchange: exchange, routingKey: key, mandatory: mandatory, properties: properties, body: request.arguments))
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
                try? await Task.sleep(for: .milliseconds(min(1000, 50 * attempt)))
                continue
            } catch {
                throw WarrenError(error, "enqueueing job \(id)")
            }
            try Self.check(outcome, id: id, queue: queue).get()
            return
        }
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
            do throws(AMQPError) {
                _ = try await channel.inspectQueue(queue)
            } catch where error.code == .channelClosed && error.replyCode == 404 {
                missing = true
                try await channel.reopen()
            }
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
