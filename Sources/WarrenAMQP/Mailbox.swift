import CRabbitMQ
import Glibc
import Synchronization

/// The only door into a connection's I/O thread.
///
/// Any thread or task may ``post(_:)`` a job; the I/O thread runs jobs in order, between socket reads,
/// with exclusive access to the connection (``ConnectionCore``). Posting wakes the I/O thread through an
/// eventfd only when it is asleep in `poll`, so a burst of acks costs one wake-up, not one each.
final class Mailbox: Sendable {
    typealias Job = @Sendable (ConnectionCore) -> Void

    private struct State {
        var jobs: [Job] = []
        var sleeping = false
        var closed = false
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
            if s.sleeping {
                s.sleeping = false
                return true
            }
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

    /// Marks the I/O thread as about to sleep; `false` when jobs are waiting and it must not.
    func prepareToSleep() -> Bool {
        state.withLock { s in
            if !s.jobs.isEmpty { return false }
            s.sleeping = true
            return true
        }
    }

    /// Clears the sleeping mark and the eventfd after `poll` returns.
    func awake() {
        state.withLock { $0.sleeping = false }
        warren_eventfd_drain(wakeFD)
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
