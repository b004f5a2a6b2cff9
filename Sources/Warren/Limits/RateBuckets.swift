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
    private let waits: TokenWaits
    /// Refill tasks by bucket queue.
    private let refillers = Mutex<[String: Task<Void, Never>]>([:])

    init(connection: AMQPConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
        self.waits = TokenWaits(connection: connection)
    }

    /// Waits for a token of the bucket `queue` and uses it up; `false` when closed first.
    func take(_ queue: String, limit: RateLimit) async throws(AMQPError) -> Bool {
        guard !waits.isStopped else { return false }
        try await waits.channel().declareQueue(queue, durable: false, arguments: ["x-max-length": .int64(Int64(limit.burst))])
        refillers.withLock { r in if r[queue] == nil { r[queue] = refiller(queue, limit) } }
        guard let token = try await waits.token(of: queue) else { return false }
        try? await token.ack()
        return true
    }

    /// Stops the waits (they return `false`).
    func stopWaiting() { waits.stop() }

    /// Stops waits and refillers.
    func close() async {
        for r in refillers.withLock({ Array($0.values) }) { r.cancel() }
        await waits.close()
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
