import Foundation
import Logging
import WarrenAMQP

/// Enqueues jobs with publisher confirms: `enqueue` returns once the broker has the job (persisted).
///
/// Messages are published `mandatory`, so a job for a queue nobody declared fails with
/// ``WarrenError/Code/unroutable`` instead of vanishing. A publish cut off by a lost connection is retried
/// (same job id) until ``publishTimeout``: a job may then arrive twice, never zero times.
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
    }

    private init(channel: AMQPChannel, topology: Topology, maxMessageBytes: Int, publishTimeout: Duration,
                 traceparent: String?, observer: (any PublishObserver)?) {
        self.channel = channel
        self.topology = topology
        self.maxMessageBytes = maxMessageBytes
        self.publishTimeout = publishTimeout
        self.traceparent = traceparent
        self.observer = observer
    }

    /// The same producer, stamping `traceparent` on what it enqueues.
    public func tracing(_ traceparent: String?) -> JobProducer {
        guard traceparent != self.traceparent else { return self }
        return JobProducer(channel: channel, topology: topology, maxMessageBytes: maxMessageBytes,
                           publishTimeout: publishTimeout, traceparent: traceparent, observer: observer)
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
        let (id, message) = try build(request)
        try await publish(message, id: id)
        return id
    }

    /// Enqueues many jobs with up to the confirm window in flight; returns each one's id or error, in order.
    /// Messages are built in chunks while earlier chunks are already on their way, in publish order.
    public func enqueue(batch requests: [JobRequest]) async -> [Result<String, WarrenError>] {
        var results = [Result<String, WarrenError>?](repeating: nil, count: requests.count)
        var inFlight: [(batch: PublishBatch, slots: [(index: Int, id: String)], messages: [OutgoingMessage])] = []
        let started = ContinuousClock.now
        func settle(_ chunk: (batch: PublishBatch, slots: [(index: Int, id: String)], messages: [OutgoingMessage])) async {
            for (k, outcome) in await chunk.batch.outcomes().enumerated() {
                if case .success = outcome { report(chunk.messages[k], since: started, ok: true) }
                let (index, id) = chunk.slots[k]
                switch outcome {
                case .success(let o):
                    results[index] = Self.check(o, id: id, message: chunk.messages[k]).map { id }
                case .failure(let error) where error.code == .connectionLost:
                    // Outcome unknown: publish again on the recovered connection (at-least-once).
                    do throws(WarrenError) {
                        try await publish(chunk.messages[k], id: id)
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
                do throws(WarrenError) {
                    let (id, message) = try build(requests[i])
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

    /// Jobs built per chunk of a batch, and chunks handed to the I/O thread ahead of their confirms.
    static let chunkSize = 500
    static let chunksInFlight = 4

    /// Builds the message for a request (also used by tools that republish).
    func build(_ request: JobRequest) throws(WarrenError) -> (String, OutgoingMessage) {
        let o = request.options
        guard request.arguments.count <= maxMessageBytes else {
            throw WarrenError(.oversized, "job '\(request.name)' arguments are \(request.arguments.count) bytes; the limit is \(maxMessageBytes)")
        }
        guard !o.queue.isEmpty else { throw WarrenError(.invalidInput, "queue name is empty") }
        let now = Date()
        let id = o.jobID ?? UUID().uuidString.lowercased()
        let runAt = o.runAt ?? o.delay.map { now.addingTimeInterval($0.seconds) }
        let delayMS = runAt.map { UInt64(max(0, $0.timeIntervalSince(now) * 1000).rounded()) } ?? 0
        var headers = o.headers
        if let traceparent, headers[WireFormat.Header.traceparent] == nil {
            headers[WireFormat.Header.traceparent] = .string(traceparent)
        }
        let envelope = JobEnvelope(
            name: request.name, id: id, queue: o.queue, arguments: request.arguments, enqueuedAt: now,
            maxAttempts: o.maxAttempts, runAt: delayMS > DelayRouting.maxDelayMilliseconds ? runAt : nil,
            expiresAt: o.expiresAt, priority: o.priority, correlationID: o.correlationID, headers: headers)
        let (exchange, key) = topology.route(queue: o.queue, priority: o.priority, delayMilliseconds: delayMS)
        return (id, envelope.message(exchange: exchange, routingKey: key))
    }

    /// Publishes with confirm, retrying through connection losses until ``publishTimeout``.
    func publish(_ message: OutgoingMessage, id: String) async throws(WarrenError) {
        let started = ContinuousClock.now
        do throws(WarrenError) {
            try await publishRetrying(message, id: id, started: started)
            report(message, since: started, ok: true)
        } catch {
            report(message, since: started, ok: false)
            throw error
        }
    }

    private func report(_ message: OutgoingMessage, since started: ContinuousClock.Instant, ok: Bool) {
        guard let observer else { return }
        let queue = HeaderValues.string(message.properties.headers?[WireFormat.Header.queue]) ?? message.routingKey
        observer.published(queue: queue, duration: ContinuousClock.now - started, ok: ok)
    }

    private func publishRetrying(_ message: OutgoingMessage, id: String, started: ContinuousClock.Instant) async throws(WarrenError) {
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
            try Self.check(outcome, id: id, message: message).get()
            return
        }
    }

    static func check(_ outcome: PublishOutcome, id: String, message: OutgoingMessage) -> Result<Void, WarrenError> {
        let queue = HeaderValues.string(message.properties.headers?[WireFormat.Header.queue]) ?? message.routingKey
        switch outcome {
        case .acked, .sent: return .success(())
        case .nacked: return .failure(WarrenError(.nacked, "the broker refused job \(id) (queue full or broker error)"))
        case .returned(let code, let text):
            return .failure(WarrenError(.unroutable, "job \(id) was not routed to any queue (\(code) \(text)): is queue '\(queue)' declared?"))
        }
    }
}
