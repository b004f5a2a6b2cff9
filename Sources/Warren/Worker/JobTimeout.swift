import Synchronization

/// How ``AttemptRunner/run(timeout:_:_:)`` came back.
enum AttemptReturn: Sendable {
    /// The body finished (or threw) before its limit: the caller settles it.
    case finished(AttemptResult)
    /// The limit passed first: `takeover` already received `.timedOut` and settles it elsewhere; the caller's
    /// task was cancelled and must stop taking work.
    case takenOver
}

/// What the deadline monitor does with an attempt past its limit. The caller of
/// ``AttemptRunner/run(timeout:_:_:)`` makes one per attempt (one object instead of a closure per use).
protocol TimedAttempt: AnyObject, Sendable {
    /// Cancels the attempt's task (cooperatively).
    func cancel()
    /// Settles the attempt as `result` (its timeout) away from its task; must not block (start a task).
    func takeOver(_ result: AttemptResult)
}

/// Runs attempts inline, in the caller's task, with a time limit. At the limit the attempt counts as timed
/// out at once, even if the body ignores cancellation: the monitor cancels the caller's task (cooperatively)
/// and hands the timeout to its ``TimedAttempt/takeOver(_:)``, which settles it in a new task, so a job that will not
/// stop never holds a worker's place hostage. When the body finally returns, its caller learns that it was
/// taken over and stops.
///
/// No task is created per attempt, and one monitor task checks every deadline each ``tick`` (limits are
/// honoured to within a tick) instead of a sleeping timer per job, which would cost more than a short job.
final class AttemptRunner: Sendable {
    private struct Attempt {
        let id: Int
        let deadline: ContinuousClock.Instant
        let limit: Duration
        let timed: any TimedAttempt
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
    /// Set once the monitor was started: checked per attempt without taking the lock.
    private let monitorStarted = Atomic<Bool>(false)
    /// Run at every tick of the monitor, after the deadlines are checked.
    private let tickHook = Mutex<(@Sendable () -> Void)?>(nil)

    /// Has `hook` run at every ``tick`` once the first attempt started (the worker's check for deliveries
    /// left behind a long job, ``DeliveryBuffer/kickIfStalled()``).
    func onEachTick(_ hook: @escaping @Sendable () -> Void) { tickHook.withLock { $0 = hook } }

    deinit { monitor.withLock { $0?.cancel() } }

    /// Runs `body` in the current task, its limit counted from `started` (the caller's reading of the clock,
    /// just before). If the limit passes first, `timed` is cancelled and takes over (``TimedAttempt``).
    nonisolated(nonsending) func run(timeout: Duration, started: ContinuousClock.Instant, _ timed: any TimedAttempt,
                                     _ body: nonisolated(nonsending) () async throws -> JobResult) async -> AttemptReturn {
        startMonitorIfNeeded()
        let id = nextID.add(1, ordering: .relaxed).newValue
        let slot = running.withLock {
            $0.insert(Attempt(id: id, deadline: started + timeout, limit: timeout, timed: timed))
        }
        let result: AttemptResult
        do {
            result = .succeeded(try await body())
        } catch {
            result = .failed(error)
        }
        // Still registered: it finished in time. Gone: the monitor claimed it.
        return running.withLock { $0.remove(at: slot, id: id) } != nil ? .finished(result) : .takenOver
    }

    private func startMonitorIfNeeded() {
        guard !monitorStarted.load(ordering: .acquiring) else { return }
        monitor.withLock { task in
            guard task == nil else { return }
            monitorStarted.store(true, ordering: .releasing)
            task = Task.detached { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: AttemptRunner.tick)
                    guard let self else { return }
                    self.expire(now: .now)
                    self.tickHook.withLock { $0 }?()
                }
            }
        }
    }

    /// Times out every attempt past its deadline.
    private func expire(now: ContinuousClock.Instant) {
        let late = running.withLock { $0.removeAll { $0.deadline <= now } }
        for attempt in late {
            attempt.timed.cancel()
            attempt.timed.takeOver(.timedOut(attempt.limit))
        }
    }

    /// True once ``cancelAll()`` ran: attempts ending now were cut short by shutdown, not failed.
    var isAbandoning: Bool { abandoning.load(ordering: .acquiring) }

    /// Cancels every attempt still running (end of the shutdown grace period). Their deliveries must be left
    /// unsettled: the broker redelivers them, with their attempt count unchanged.
    func cancelAll() {
        abandoning.store(true, ordering: .releasing)
        for attempt in running.withLock({ $0.all }) { attempt.timed.cancel() }
    }

    /// Stops the deadline monitor (the worker is done).
    func stop() { monitor.withLock { $0?.cancel() } }
}
