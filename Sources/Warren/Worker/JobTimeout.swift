import Synchronization

/// How one attempt ended.
enum AttemptResult: Sendable {
    case succeeded
    case failed(any Error)
    case timedOut(Duration)
}

/// Runs `body` in its own task with a time limit. At the limit the task is cancelled (cooperatively) and
/// the attempt counts as timed out at once, even if the body ignores cancellation: the caller's slot is
/// never held hostage by a job that will not stop. `cancelAll` cancels every attempt still running.
final class AttemptRunner: Sendable {
    private let running = Mutex<[Int: Task<Void, Never>]>([:])
    private let nextID = Atomic<Int>(0)

    /// Resumes a continuation once, whichever of job and timer comes first.
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

    func run(timeout: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> AttemptResult {
        let id = nextID.add(1, ordering: .relaxed).newValue
        return await withCheckedContinuation { (c: CheckedContinuation<AttemptResult, Never>) in
            let once = Once(c)
            let timer = Task { [self] in
                try? await Task.sleep(for: timeout)
                if Task.isCancelled { return }
                let job = running.withLock { $0[id] }
                if once.resume(.timedOut(timeout)) { job?.cancel() }
            }
            // Created under the lock so that its own removal (at its end) cannot run before its insertion.
            running.withLock { tasks in
                tasks[id] = Task { [self] in
                    let r: AttemptResult
                    do {
                        try await body()
                        r = .succeeded
                    } catch {
                        r = .failed(error)
                    }
                    timer.cancel()
                    running.withLock { _ = $0.removeValue(forKey: id) }
                    _ = once.resume(r)
                }
            }
        }
    }

    private let abandoning = Atomic<Bool>(false)

    /// True once ``cancelAll()`` ran: attempts ending now were cut short by shutdown, not failed.
    var isAbandoning: Bool { abandoning.load(ordering: .acquiring) }

    /// Cancels every attempt still running (end of the shutdown grace period). Their deliveries must be left
    /// unsettled: the broker redelivers them, with their attempt count unchanged.
    func cancelAll() {
        abandoning.store(true, ordering: .releasing)
        for task in running.withLock({ Array($0.values) }) { task.cancel() }
    }
}
