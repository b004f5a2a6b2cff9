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
        var task: Task<Void, Never>?
        let deadline: ContinuousClock.Instant
        let limit: Duration
        let once: Once
    }

    /// Deadline check interval.
    static let tick: Duration = .milliseconds(25)
    private let running = Mutex<[Int: Attempt]>([:])
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
                attempts[id] = Attempt(task: nil, deadline: .now + timeout, limit: timeout, once: once)
                attempts[id]?.task = Task { [self] in
                    let r: AttemptResult
                    do {
                        try await body()
                        r = .succeeded
                    } catch {
                        r = .failed(error)
                    }
                    running.withLock { _ = $0.removeValue(forKey: id) }
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
        let late = running.withLock { attempts -> [Attempt] in
            let ids = attempts.filter { $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { attempts.removeValue(forKey: $0) }
        }
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
        for attempt in running.withLock({ Array($0.values) }) { attempt.task?.cancel() }
    }

    /// Stops the deadline monitor (the worker is done).
    func stop() { monitor.withLock { $0?.cancel() } }
}
