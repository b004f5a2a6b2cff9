import Synchronization
import Logging
import WarrenAMQP

/// A worker's side of ``RateLimit``s: takes a token from a bucket queue before a job starts (waiting with a
/// one-token consumer, like ``GlobalLeases``), and for every bucket it uses runs a refiller that refills the
/// bucket while it holds the bucket's refill lock (one refiller at a time across all workers).
final class RateBuckets: Sendable {
    private let connection: AMQPConnection
    private let logger: Logger
    /// How often the refill leader adds tokens.
    static let tick: Duration = .milliseconds(20)
    private struct State {
        var channel: AMQPChannel?
        var refillers: [String: Task<Void, Never>] = [:]
        var waits: [ObjectIdentifier: TokenWait] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    init(connection: AMQPConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Waits for a token of the bucket `queue` and uses it up; `false` when closed first.
    func take(_ queue: String, limit: RateLimit) async throws(AMQPError) -> Bool {
        let channel = try await waitChannel()
        try await channel.declareQueue(queue, durable: false, arguments: ["x-max-length": .int64(Int64(limit.burst))])
        let wait = TokenWait()
        guard state.withLock({ s -> Bool in
            if s.closed { return false }
            s.waits[ObjectIdentifier(wait)] = wait
            if s.refillers[queue] == nil { s.refillers[queue] = refiller(queue, limit) }
            return true
        }) else { return false }
        defer { _ = state.withLock { $0.waits.removeValue(forKey: ObjectIdentifier(wait)) } }
        let consumer = try await channel.consume(queue: queue) { event in
            if case .delivery(let token) = event { wait.deliver(token) }
        }
        let token = await wait.value()
        await consumer.cancel()
        guard let token else { return false }
        try? await token.ack()
        return true
    }

    /// Stops the waits (they return `false`).
    func stopWaiting() {
        let waits = state.withLock { s -> [TokenWait] in
            s.closed = true
            return Array(s.waits.values)
        }
        for w in waits { w.abandon() }
    }

    /// Stops waits and refillers.
    func close() async {
        stopWaiting()
        for r in state.withLock({ Array($0.refillers.values) }) { r.cancel() }
        await state.withLock { $0.channel }?.close()
    }

    private func waitChannel() async throws(AMQPError) -> AMQPChannel {
        if let channel = state.withLock({ $0.channel }) { return channel }
        let channel = try await connection.openChannel()
        try await channel.qos(prefetchCount: 1)
        return state.withLock { s in
            if let existing = s.channel { return existing }
            s.channel = channel
            return channel
        }
    }

    /// Competes for the bucket's refill lock every second; while it holds it, adds the rate's tokens every
    /// ``tick`` (the bucket's length limit drops what exceeds the burst).
    private func refiller(_ queue: String, _ limit: RateLimit) -> Task<Void, Never> {
        Task { [connection, logger] in
            while !Task.isCancelled {
                do throws(AMQPError) {
                    let channel = try await connection.openChannel()
                    defer { Task { await channel.close() } }
                    if try await SchedulerLock.tryAcquire("\(queue).refill", on: channel) {
                        logger.info("refilling rate limit", metadata: ["bucket": "\(queue)", "rate": "\(limit)"])
                        try await Self.refill(queue, limit, on: channel)
                    }
                } catch {
                    logger.warning("rate-limit refiller interrupted", metadata: ["bucket": "\(queue)", "error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private static func refill(_ queue: String, _ limit: RateLimit, on channel: AMQPChannel) async throws(AMQPError) {
        let token = OutgoingMessage(routingKey: queue, properties: BasicProperties(persistent: false), body: [])
        var last = ContinuousClock.now
        var carry = 0.0
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (tokens, left) = limit.refill(elapsed: now - last, carry: carry)
            (last, carry) = (now, left)
            guard tokens > 0 else { continue }
            for outcome in await channel.publish(Array(repeating: token, count: min(tokens, limit.burst))) {
                if case .failure(let error) = outcome { throw error }
            }
        }
    }
}
