import CRabbitMQ
import Glibc
import Synchronization

/// The only door into a connection's I/O thread.
///
/// Any thread or task may ``post(_:)`` a job; the I/O thread runs jobs in order, between socket reads,
/// with exclusive access to the connection (``ConnectionCore``). Posting wakes the I/O thread through an
/// eventfd only when it is asleep in `poll`. Work that can wait a little (acks) asks instead that the thread
/// look by a deadline (``wake(by:)``), which wakes it only if it would sleep past that.
final class Mailbox: Sendable {
    typealias Job = @Sendable (ConnectionCore) -> Void

    private struct State {
        var jobs: [Job] = []
        /// While the I/O thread sleeps: until when, at the latest.
        var sleepingUntil: ContinuousClock.Instant?
        /// While it is awake: the earliest deadline asked of its next sleep.
        var wakeBy: ContinuousClock.Instant?
        var closed = false

        /// Clears the sleeping mark; whether the thread was asleep and needs the eventfd.
        mutating func interruptSleep() -> Bool {
            guard sleepingUntil != nil else { return false }
            sleepingUntil = nil
            return true
        }
    }

    private let state = Mutex(State())
    /// eventfd the I/O thread polls beside the socket.
    let wakeFD: Int32

    init() {
        wakeFD = warren_eventfd()
        precondition(wakeFD >= 0, "eventfd failed: errno \(warren_errno())")
    }

    deinit { Glibc.close(wakeFD) }

    /// Queues a job for the I/O thread. Returns `false` (and drops the job) once the mailbox is closed.
    @discardableResult
    func post(_ job: @escaping Job) -> Bool {
        let wake: Bool? = state.withLock { s in
            if s.closed { return nil }
            s.jobs.append(job)
            return s.interruptSleep()
        }
        guard let wake else { return false }
        if wake { warren_eventfd_signal(wakeFD) }
        return true
    }

    /// Asks the I/O thread to look by `deadline`: wakes it now if it sleeps past that, or else makes its next
    /// sleep end by then. Never suspends. Returns `false` once the mailbox is closed.
    @discardableResult
    func wake(by deadline: ContinuousClock.Instant) -> Bool {
        let wake: Bool? = state.withLock { s in
            if s.closed { return nil }
            if let until = s.sleepingUntil {
                return until > deadline && s.interruptSleep()
            }
            s.wakeBy = min(s.wakeBy ?? deadline, deadline)
            return false
        }
        guard let wake else { return false }
        if wake { warren_eventfd_signal(wakeFD) }
        return true
    }

    /// Runs `body` on the I/O thread and returns its result.
    func call<T: Sendable>(_ body: @escaping @Sendable (ConnectionCore) throws(AMQPError) -> T) async throws(AMQPError) -> T {
        let result: Result<T, AMQPError> = await withCheckedContinuation { cont in
            let posted = post { core in
                do throws(AMQPError) { cont.resume(returning: .success(try body(core))) } catch {
                    cont.resume(returning: .failure(error))
                }
            }
            if !posted { cont.resume(returning: .failure(Mailbox.closedError)) }
        }
        return try result.get()
    }

    /// Runs `body` on the I/O thread, which completes the call later (e.g. when a confirm arrives) by
    /// invoking the completion it is handed, exactly once, on the I/O thread.
    func callDeferred<T: Sendable>(
        _ body: @escaping @Sendable (ConnectionCore, @escaping @Sendable (Result<T, AMQPError>) -> Void) -> Void
    ) async throws(AMQPError) -> T {
        let result: Result<T, AMQPError> = await withCheckedContinuation { cont in
            let posted = post { core in body(core) { cont.resume(returning: $0) } }
            if !posted { cont.resume(returning: .failure(Mailbox.closedError)) }
        }
        return try result.get()
    }

    static let closedError = AMQPError(.closedByClient, "the connection has been closed")

    /// Takes every queued job (I/O thread only).
    func take() -> [Job] {
        state.withLock { s in
            if s.jobs.isEmpty { return [] }
            let jobs = s.jobs
            s.jobs.removeAll(keepingCapacity: true)
            return jobs
        }
    }

    /// Marks the I/O thread as about to sleep until `deadline` at the latest; returns when it is to wake, which
    /// is sooner if ``wake(by:)`` asked so meanwhile, or `nil` when jobs are waiting and it must not sleep.
    func prepareToSleep(until deadline: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        state.withLock { s in
            if !s.jobs.isEmpty { return nil }
            let until = min(deadline, s.wakeBy ?? deadline)
            (s.sleepingUntil, s.wakeBy) = (until, nil)
            return until
        }
    }

    /// Clears the sleeping mark after `poll` returns, and the eventfd when `poll` found it readable (no `read`
    /// on the wake-ups that came from the socket or the timeout).
    func awake(signalled: Bool) {
        state.withLock { $0.sleepingUntil = nil }
        if signalled { warren_eventfd_drain(wakeFD) }
    }

    /// Refuses further jobs and returns those still queued, for the I/O thread to run or fail.
    func close() -> [Job] {
        state.withLock { s in
            s.closed = true
            let jobs = s.jobs
            s.jobs = []
            return jobs
        }
    }
}
