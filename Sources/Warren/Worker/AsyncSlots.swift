import DequeModule
import Synchronization

/// A counting semaphore for tasks: at most `count` holders at once; waiters are served in order.
final class AsyncSlots: Sendable {
    private struct State {
        var available: Int
        var waiters: Deque<CheckedContinuation<Void, Never>> = []
    }
    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(available: max(1, count))) }

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if ready { c.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiters.popFirst() { return w }
            s.available += 1
            return nil
        }
        next?.resume()
    }

    /// Holders right now.
    func inUse(of total: Int) -> Int { state.withLock { total - $0.available } }
}
