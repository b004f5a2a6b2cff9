import DequeModule
import Synchronization

/// At most ``limit`` attempts of one job running at once in one worker (`maxConcurrent` of
/// ``JobRegistry``), for jobs that must not flood what they call (a rate-limited API, a licence, a heavy
/// encoder).
///
/// A delivery over the limit waits in its runner, unacknowledged and in order, so give a tightly limited job
/// a queue of its own when other jobs must not wait behind it. Places go first come, first served. When the
/// worker shuts down it closes its limits: every waiter gives up and its delivery is left to the broker.
/// Thread-safe; waiters are resumed outside the lock.
final class ConcurrencyLimit: Sendable {
    /// Most attempts at once.
    let limit: Int
    private struct State {
        var running = 0
        var waiters: Deque<CheckedContinuation<Bool, Never>> = []
        var closed = false
    }
    private let state = Mutex(State())

    init(_ limit: Int) { self.limit = max(1, limit) }

    /// Takes a place, waiting for one; `false` when the limit was closed (shutdown) first.
    nonisolated(nonsending) func acquire() async -> Bool {
        // A free place is taken without suspending: a limit nobody hits costs a lock, not a task switch.
        let free = state.withLock { s -> Bool? in
            if s.closed { return false }
            guard s.running < limit else { return nil }
            s.running += 1
            return true
        }
        if let free { return free }
        return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let now = state.withLock { s -> Bool? in
                if s.closed { return false }
                if s.running < limit {
                    s.running += 1
                    return true
                }
                s.waiters.append(c)
                return nil
            }
            if let now { c.resume(returning: now) }
        }
    }

    /// Gives a place back: to the longest waiter, if any.
    func release() {
        let next = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            if let w = s.waiters.popFirst() { return w }  // the place passes on: `running` unchanged
            s.running -= 1
            return nil
        }
        next?.resume(returning: true)
    }

    /// Shutdown: waiters and later callers of ``acquire()`` get `false`; running attempts still release.
    func close() {
        let waiters = state.withLock { s -> Deque<CheckedContinuation<Bool, Never>> in
            s.closed = true
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for w in waiters { w.resume(returning: false) }
    }
}

/// One worker run's limits, by job name (built from the registry's `maxConcurrent`).
struct JobLimits: Sendable {
    private let limits: [String: ConcurrencyLimit]

    init(_ registry: JobRegistry) {
        var limits: [String: ConcurrencyLimit] = [:]
        for name in registry.names {
            if let n = registry[name]?.maxConcurrent { limits[name] = ConcurrencyLimit(n) }
        }
        self.limits = limits
    }

    subscript(job: String) -> ConcurrencyLimit? { limits.isEmpty ? nil : limits[job] }

    func close() { for l in limits.values { l.close() } }
}
