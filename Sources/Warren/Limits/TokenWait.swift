import Synchronization
import WarrenAMQP

/// One job's wait for a token: the first token delivered, or `nil` when abandoned. A token that arrives
/// after the wait ended goes straight back.
final class TokenWait: Sendable {
    private struct State {
        var token: AMQPDelivery?
        var waiter: CheckedContinuation<AMQPDelivery?, Never>?
        var done = false
    }
    private let state = Mutex(State())

    /// Called on the connection's I/O thread: returns at once.
    func deliver(_ token: AMQPDelivery) {
        let (waiter, extra) = state.withLock { s -> (CheckedContinuation<AMQPDelivery?, Never>?, AMQPDelivery?) in
            if s.done { return (nil, token) }
            s.done = true
            if let w = s.waiter { s.waiter = nil; return (w, nil) }
            s.token = token
            return (nil, nil)
        }
        waiter?.resume(returning: token)
        if let extra { Task { try? await extra.nack(requeue: true) } }
    }

    func abandon() {
        let waiter = state.withLock { s -> CheckedContinuation<AMQPDelivery?, Never>? in
            s.done = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    func value() async -> AMQPDelivery? {
        await withCheckedContinuation { (c: CheckedContinuation<AMQPDelivery?, Never>) in
            let now = state.withLock { s -> AMQPDelivery?? in
                if let t = s.token { s.token = nil; return .some(t) }
                if s.done { return .some(nil) }
                s.waiter = c
                return nil
            }
            if let now { c.resume(returning: now) }
        }
    }
}

/// The waits of one worker for tokens of limit queues (``GlobalLeases``, ``RateBuckets``): one channel of the
/// worker's connection with a prefetch of one per consumer, and a one-token consumer per waiting job, cancelled
/// before the token is used (so it never receives a second one).
final class TokenWaits: Sendable {
    private let connection: AMQPConnection
    private struct State {
        var channel: AMQPChannel?
        var waits: [ObjectIdentifier: TokenWait] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    init(connection: AMQPConnection) { self.connection = connection }

    /// The waits' channel, opened on first use.
    func channel() async throws(AMQPError) -> AMQPChannel {
        if let channel = state.withLock({ $0.channel }) { return channel }
        let channel = try await connection.openChannel()
        try await channel.qos(prefetchCount: 1)  // per consumer: one token per waiting job
        return state.withLock { s in
            if let existing = s.channel { return existing }
            s.channel = channel
            return channel
        }
    }

    /// Waits for a token of `queue`; `nil` when the waits were stopped first. The token is unacked.
    func token(of queue: String) async throws(AMQPError) -> AMQPDelivery? {
        let channel = try await channel()
        let wait = TokenWait()
        guard state.withLock({ s -> Bool in
            if s.closed { return false }
            s.waits[ObjectIdentifier(wait)] = wait
            return true
        }) else { return nil }
        defer { _ = state.withLock { $0.waits.removeValue(forKey: ObjectIdentifier(wait)) } }
        let consumer = try await channel.consume(queue: queue) { event in
            if case .delivery(let token) = event { wait.deliver(token) }
        }
        let token = await wait.value()
        await consumer.cancel()
        return token
    }

    /// Whether ``stop()`` was called.
    var isStopped: Bool { state.withLock { $0.closed } }

    /// Stops the waits (they return `nil`) and refuses new ones.
    func stop() {
        let waits = state.withLock { s -> [TokenWait] in
            s.closed = true
            return Array(s.waits.values)
        }
        for w in waits { w.abandon() }
    }

    /// Stops the waits and closes the channel: every token still held goes back to its queue.
    func close() async {
        stop()
        await state.withLock { $0.channel }?.close()
    }
}
