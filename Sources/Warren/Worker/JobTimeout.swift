import Synchronization

/// How one attempt ended.
enum AttemptResult: Sendable {
    case succeeded
    case failed(any Error)
    case timedOut(Duration)
}

/// Runs each attempt in its own task with a time limit. At the limit the task is cancelled (cooperatively)
/// and the attempt counts as timed out at once, even if the body ignores cancellation: the caller's slot is
/// never held hostage by a job that will not stop.
///
/// One monitor task checks every deadline each ``tick`` (so limits are honoured to within a tick) instead of
/// a sleeping timer task per job, which would cost more than a short job itself.
final class AttemptRunner: Sendable {
    /// Resumes a continuation once, whichever of job and monitor comes first.
    private final class Once: Sendable {
        private let continuation: Mutex<CheckedContinuation<AttemptResult, Never>?>
        init(_ c: CheckedContinuation<AttemptResult, Never>) { continuation = Mutex(c) }
        func resume(_ result: AttemptResult) -> Bool {
            guard let c = continuation.withLock({ v -> CheckedContinuation<AttemptResult, Never>? in defer { v = nil }; return v }) else {
                return false
            }
            c.resume(returning: result)
            return true
        }
    }

    private struct Attempt {
        let id: Int
        var task: Task<Void, Never>?
        let deadline: ContinuousClock.Instant
        let limit: Duration
        let once: Once
    }

    /// Running attempts in reusable slots (no hashing per job); a slot is cleared only by its own attempt's
    /// id, so a late finisher cannot clear the slot's next tenant.
    private struct Running {
        var slots: [Attempt?] = []
        var free: [Int] = []

        mutating func insert(_ attempt: Attempt) -> Int {
            if let i = free.popLast() {
                slots[i] = attempt
                return i
            }
            slots.append(attempt)
            return slots.count - 1
        }

        mutating func remove(at slot: Int, id: Int) -> Attempt? {
            guard let a = slots[slot], a.id == id else { return nil }
            slots[slot] = nil
            free.append(slot)
            return a
        }

        mutating func removeAll(where late: (Attempt) -> Bool) -> [Attempt] {
            var removed: [Attempt] = []
            for i in slots.indices {
                if let a = slots[i], late(a) { removed.append(a); slots[i] = nil; free.append(i) }
            }
            return removed
        }

        var all: [Attempt] { slots.compactMap { $0 } }
    }

    /// Deadline check interval.
    static let tick: Duration = .milliseconds(25)
    private let running = Mutex(Running())
    private let nextID = Atomic<Int>(0)
    private let abandoning = Atomic<Bool>(false)
    private let monitor = Mutex<Task<Void, Never>?>(nil)

    deinit { monitor.withLock { $0?.cancel() } }

    func run(timeout: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> AttemptResult {
        startMonitorIfNeeded()
        let id = nextID.add(1, ordering: .relaxed).newValue
        return await withCheckedContinuation { (c: CheckedContinuation<AttemptResult, Never>) in
            let once = Once(c)
            // Registered and started under the lock, so its own removal (at its end) cannot come first.
            running.withLock { attempts in
                let slot = attempts.insert(Attempt(id: id, task: nil, deadline: .now + timeout, limit: timeout, once: once))
                attempts.slots[slot]?.task = Task { [self] in
                    let r: AttemptResult
                    do {
                        try await body()
                        r = .succeeded
                    } catch {
                        r = .failed(error)
                    }
                    _ = running.withLock { $0.remove(at: slot, id: id) }
                    _ = once.resume(r)
                }
            }
        }
    }

    private func startMonitorIfNeeded() {
        monitor.withLock { task in
            guard task == nil else { return }
            task = Task.detached { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: AttemptRunner.tick)
                    guard let self else { return }
                    self.expire(now: .now)
                }
            }
        }
    }

    /// Times out every attempt past its deadline.
    private func expire(now: ContinuousClock.Instant) {
        let late = running.withLock { $0.removeAll { $0.deadline <= now } }
        for attempt in late where attempt.once.resume(.timedOut(attempt.limit)) {
            attempt.task?.cancel()
        }
    }

    /// True once ``cancelAll()`` ran: attempts ending now were cut short by shutdown, not failed.
    var isAbandoning: Bool { abandoning.load(ordering: .acquiring) }

    /// Cancels every attempt still running (end of the shutdown grace period). Their deliveries must be left
    /// unsettled: the broker redelivers them, with their attempt count unchanged.
    func cancelAll() {
        abandoning.store(true, ordering: .releasing)
        for attempt in running.withLock({ $0.all }) { attempt.task?.cancel() }
    }

    /// Stops the deadline monitor (the worker is done).
    func stop() { monitor.withLock { $0?.cancel() } }
}
