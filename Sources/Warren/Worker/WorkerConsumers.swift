import Logging
import Synchronization
import WarrenAMQP

/// The worker's consumers, one per source queue, all on one channel and all feeding the ``DeliveryBuffer``;
/// restarted together when the prefetch changes (RabbitMQ applies `basic.qos` only to consumers started
/// after it).
final class WorkerConsumers: Sendable {
    let channel: AMQPChannel
    let sources: [DeliveryBuffer.Source]
    let buffer: DeliveryBuffer
    let logger: Logger

    /// One consumer's life: set `retired` before cancelling it on purpose, so its end does not count as the
    /// source ending.
    private final class Incarnation: Sendable {
        let retired = Atomic<Bool>(false)
    }

    private struct State {
        var consumers: [(AMQPConsumer, Incarnation)?]
        var stopped = false
    }
    private let state: Mutex<State>

    init(channel: AMQPChannel, sources: [DeliveryBuffer.Source], buffer: DeliveryBuffer, logger: Logger) {
        self.channel = channel
        self.sources = sources
        self.buffer = buffer
        self.logger = logger
        state = Mutex(State(consumers: Array(repeating: nil, count: sources.count)))
    }

    /// Sets the prefetch and starts every consumer.
    func start(prefetch: Int) async throws(WarrenError) {
        do { try await channel.qos(prefetchCount: UInt16(clamping: prefetch)) } catch {
            throw WarrenError(error, "setting the prefetch")
        }
        for index in sources.indices {
            do { try await consume(index) } catch { throw WarrenError(error, "consuming '\(sources[index].queue)'") }
        }
    }

    /// Cancels the consumers, sets `prefetch`, and consumes again. Deliveries already received stay in the
    /// buffer and are run and acked as usual (deliveries racing the cancel are handed back to the queue).
    /// A source that cannot be consumed again ends, as if its consumer had ended.
    func restart(prefetch: Int) async {
        let current = state.withLock { s -> [(AMQPConsumer, Incarnation)?] in
            if s.stopped { return [] }
            defer { s.consumers = Array(repeating: nil, count: sources.count) }
            return s.consumers
        }
        guard !current.isEmpty else { return }
        for case let (consumer, incarnation)? in current {
            incarnation.retired.store(true, ordering: .sequentiallyConsistent)
            await consumer.cancel()
        }
        // The connection may be recovering at this moment: a few attempts, a second apart (the channel's qos is
        // restored with it, the new value included once set).
        var lastError: AMQPError?
        for index in sources.indices {
            for attempt in 1...Self.attempts {
                if attempt > 1 { try? await Task.sleep(for: .seconds(1)) }
                if state.withLock({ $0.stopped }) { return }
                do {
                    if lastError != nil || index == 0 { try await channel.qos(prefetchCount: UInt16(clamping: prefetch)) }
                    try await consume(index)
                    lastError = nil
                    break
                } catch {
                    lastError = error
                }
            }
            if let lastError {
                logger.error("could not consume again after changing the prefetch; the queue's consumer has ended",
                             metadata: ["queue": "\(sources[index].queue)", "error": "\(lastError)"])
                buffer.finish(source: index)
            }
        }
    }

    /// Attempts to consume a source again after a prefetch change.
    private static let attempts = 10

    /// Cancels every consumer; no restart starts one afterwards.
    func stop() async {
        let current = state.withLock { s -> [(AMQPConsumer, Incarnation)?] in
            s.stopped = true
            return s.consumers
        }
        for case let (consumer, _)? in current { await consumer.cancel() }
    }

    private func consume(_ index: Int) async throws(AMQPError) {
        let (buffer, logger, source) = (self.buffer, self.logger, sources[index])
        let incarnation = Incarnation()
        // Deliveries go straight from the I/O thread into the buffer (a lock and, when a runner waits, one
        // resume): no task hop per message.
        let consumer = try await channel.consume(queue: source.queue) { event in
            switch event {
            case .delivery(let delivery):
                buffer.push(delivery, source: index)
            case .ended(let error):
                guard !incarnation.retired.load(ordering: .sequentiallyConsistent) else { return }
                if let error { logger.error("consumer ended", metadata: ["queue": "\(source.queue)", "error": "\(error)"]) }
                buffer.finish(source: index)
            }
        }
        let kept = state.withLock { s -> Bool in
            if s.stopped { return false }
            s.consumers[index] = (consumer, incarnation)
            return true
        }
        if !kept {  // stopped meanwhile: this one must not outlive the worker
            await consumer.cancel()
        }
    }
}
