import Synchronization

/// A value loaded from the broker and served from memory: the first caller waits for the load; later callers
/// get the last value at once, and when it is older than `maxAge` one background reload starts (never two).
/// Page latency then does not depend on the broker, and the broker sees at most one load per `maxAge`
/// however many pages are open. A failed reload keeps the previous value.
final class Refreshing<Value: Sendable>: Sendable {
    private let state = Mutex<(at: ContinuousClock.Instant, value: Value)?>(nil)
    private let busy = Mutex(false)
    private let maxAge: Duration
    private let load: @Sendable () async throws -> Value

    init(maxAge: Duration, load: @escaping @Sendable () async throws -> Value) {
        self.maxAge = maxAge
        self.load = load
    }

    /// The value; with `olderAllowed`, a reload starts only once the value is that old (a reader that needs
    /// less freshness than ``maxAge`` does not cause reloads of its own).
    func get(olderAllowed: Duration? = nil) async throws -> Value {
        if let s = state.withLock({ $0 }) {
            if ContinuousClock.now - s.at >= max(maxAge, olderAllowed ?? maxAge) { reloadInBackground() }
            return s.value
        }
        return try await fetch()
    }

    private func fetch() async throws -> Value {
        let value = try await load()
        state.withLock { $0 = (.now, value) }
        return value
    }

    private func reloadInBackground() {
        guard busy.withLock({ b in
            if b { return false }
            b = true
            return true
        }) else { return }
        Task {
            defer { busy.withLock { $0 = false } }
            _ = try? await fetch()
        }
    }
}
