import DequeModule
import Synchronization

/// A counting semaphore for tasks: at most `count` holders at once; waiters are served in order.
/// Once closed, every waiter (and every later `acquire`) gets `false`.
final class AsyncSlots: Sendable {
    private struct State {
        var available: Int
        var closed = false
        var waiters: Deque<CheckedContinuation<Bool, Never>> = []
    }
    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(available: max(1, count))) }

    /// Takes a slot, waiting for one; `false` when the semaphore was closed instead.
    func acquire() async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let ready = state.withLock { s -> Bool? in
                if s.closed { return false }
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            if let w = s.waiters.popFirst() { return w }
            s.available += 1
            return nil
        }
        next?.resume(returning: true)
    }

    /// Wakes every waiter with `false` and refuses later acquisitions.
    func close() {
        let waiters = state.withLock { s -> Deque<CheckedContinuation<Bool, Never>> in
            s.closed = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(returning: false) }
    }

}
