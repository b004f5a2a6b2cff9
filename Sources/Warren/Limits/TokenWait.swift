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
