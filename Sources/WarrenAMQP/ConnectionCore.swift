import CRabbitMQ
import Foundation
import Logging
import Synchronization

/// The state of one AMQP connection, owned by exactly one I/O thread.
///
/// ## Threading contract
/// librabbitmq-c forbids sharing a connection between threads, and sends and checks heartbeats only inside
/// its own calls. So every `ConnectionCore` runs a dedicated `Thread` (``run()``) that is the only code ever
/// touching `conn`, the channels and the consumers. Other threads and Swift tasks never call into it
/// directly: they post closures to its ``Mailbox``, which the I/O thread runs between socket reads.
/// The thread never runs application code (jobs run elsewhere, on copies), so it always gets back to the
/// library within a fraction of the heartbeat interval, however long jobs take.
///
/// Each loop turn: run mailbox jobs, write coalesced acks, publish what the confirm windows allow, read every
/// frame already available (zero-timeout reads), then `poll` the socket and the mailbox's eventfd for at
/// most a quarter of the heartbeat interval, or less when acks are to be looked at sooner
/// (``AckTracker/lookDeadline(at:)``). Under a steady flow of deliveries the sleep watches the mailbox alone
/// for up to ``AMQPConfiguration/deliveryBatchWindow``, letting the socket gather (``ReadPacing``).
///
/// Marked `@unchecked Sendable` only so it can be handed to its thread; nothing else may use it.
final class ConnectionCore: @unchecked Sendable {
    let config: AMQPConfiguration
    let logger: Logger
    let mailbox: Mailbox
    let shared: ConnectionShared

    /// Where the connection stands; read and changed on the I/O thread only.
    var link: Link = .idle {
        willSet { assertOnIOThread() }
        didSet {
            if case .connected(let c, _) = link { connected = c } else { connected = nil }
            pacing.reset()
        }
    }
    /// The library's connection while ``link`` is `connected`: kept beside it so that the hot path reads a
    /// pointer instead of copying the enum (and its endpoint string) on every frame.
    private var connected: amqp_connection_state_t?
    /// Strings the broker repeats on every delivery (consumer tags, exchanges, routing keys, job names),
    /// made once instead of per message. I/O thread only.
    var repeated = StringInterner()
    var endpointIndex = 0
    var channels: [UInt16: ChannelState] = [:]
    var topology = TopologyRecord()
    var epochCounter: UInt64 = 0
    var pollTimeoutMS: Int32 = 1000
    /// Whether the socket is read at once or after a gathering window. I/O thread only.
    var pacing: ReadPacing
    /// Whether the last sleep was a gathering wait that ran its course.
    private var gathered = false
    /// The I/O thread, once it runs (for ``assertOnIOThread()``).
    private var ioThread: pthread_t?
    /// The channel running a passive declare: a 404 there is the answer "missing", not a fault to warn about.
    var probing: UInt16?
    /// Scratch C memory for publishes, reset after each one.
    let publishArena = CArena()

    /// The states of a connection. Recovery moves it `connected` -> `reconnecting` -> `connected` (or
    /// `failed`); ``shutdown()`` moves any state to `stopped`.
    enum Link {
        /// Before the first connect.
        case idle
        /// Open, to `endpoint` (host:port).
        case connected(amqp_connection_state_t, endpoint: String)
        /// Lost; reconnect attempt `attempt + 1` is due at `due`.
        case reconnecting(attempt: Int, due: ContinuousClock.Instant)
        /// Lost for good (recovery off, or out of attempts): every call fails with `error`.
        case failed(AMQPError)
        /// Closed by the application; the I/O thread ends.
        case stopped
    }

    /// The library's connection while connected.
    var conn: amqp_connection_state_t? {
        assertOnIOThread()
        return connected
    }

    /// The endpoint connected to, or "" when not connected.
    var connectedEndpoint: String {
        if case .connected(_, let endpoint) = link { return endpoint }
        return ""
    }

    /// True once ``shutdown()`` ran.
    var stopping: Bool {
        if case .stopped = link { return true }
        return false
    }

    /// Debug builds: traps when called off the I/O thread (as swift-nio's `assertInEventLoop`). Everything
    /// that touches the library's connection, its channels or ``link`` must run on that thread.
    @inline(__always)
    func assertOnIOThread(file: StaticString = #fileID, line: UInt = #line) {
        assert(ioThread.map { pthread_equal($0, pthread_self()) != 0 } ?? true,
               "ConnectionCore used off its I/O thread", file: file, line: line)
    }

    /// Channel 1 belongs to the connection itself (topology recovery); applications get 2 and up.
    static let controlChannel: UInt16 = 1

    init(config: AMQPConfiguration, logger: Logger, shared: ConnectionShared) {
        self.config = config
        self.logger = logger
        self.mailbox = Mailbox()
        self.shared = shared
        self.pacing = ReadPacing(window: config.deliveryBatchWindow)
    }

    /// The I/O thread's name, for Foundation and, on Linux, the kernel (`top -H`, `ps -L`, `perf`).
    static let ioThreadName = "warren-amqp-io"

    /// Starts the I/O thread.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = Self.ioThreadName
        thread.start()
    }

    // MARK: loop

    private func run() {
        ioThread = pthread_self()
        // In the kernel too (`comm`): Foundation's `Thread.name` does not reach it on Linux, so `top -H`,
        // `ps -L` and `perf` showed this thread under its creator's name. (Glibc's `pthread_setname_np` is
        // not visible to Swift without `_GNU_SOURCE`; the calling thread's `comm` file does the same.)
        #if os(Linux)
        if let f = fopen("/proc/thread-self/comm", "w") {
            fputs(Self.ioThreadName, f)
            fclose(f)
        }
        #endif
        while !stopping {
            for job in mailbox.take() { job(self) }
            if stopping { break }
            guard conn != nil else {
                reconnectIfDue()
                if conn == nil && !stopping { sleep(socket: -1, until: reconnectSleepDeadline()) }
                continue
            }
            flushAcks()
            pumpPublishes()
            let frames = readAvailableFrames(limit: 2000)
            pacing.read(frames: frames, at: .now, afterGathering: gathered)
            gathered = false
            if let c = conn, !hasImmediateWork(c) {
                sleep(socket: amqp_get_sockfd(c), until: sleepDeadline())
            }
        }
        for job in mailbox.close() { job(self) }
    }

    private func hasImmediateWork(_ c: amqp_connection_state_t) -> Bool {
        if amqp_frames_enqueued(c) != 0 || amqp_data_in_buffer(c) != 0 { return true }
        let now = ContinuousClock.now
        for ch in channels.values {
            if ch.settler?.flushDue(at: now) == true { return true }
            if !ch.waiting.isEmpty, ch.confirms?.hasRoom ?? true { return true }
        }
        return false
    }

    /// Until when the loop may sleep: the poll timeout, or less when acks are to be looked at sooner
    /// (``AckTracker/lookDeadline(at:)``).
    private func sleepDeadline() -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        let timeout = now + .milliseconds(Int(pollTimeoutMS))
        return min(timeout, ackLookDeadline(at: now) ?? timeout)
    }

    /// Sleeps in `poll` until `deadline` at the latest (rounded up to whole milliseconds, at least 1) or until
    /// the socket or the mailbox has something; while deliveries gather (``ReadPacing``), until the end of the
    /// window or until the mailbox has something.
    private func sleep(socket: Int32, until deadline: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        let gather = socket >= 0 && deliveriesMayWait ? pacing.gatherDeadline(at: now) : nil
        guard let until = mailbox.prepareToSleep(until: min(deadline, gather ?? deadline)) else { return }
        let left = ((until - now).seconds * 1000).rounded(.up)
        let ready = warren_poll2(gather == nil ? socket : -1, mailbox.wakeFD, Int32(max(1, min(Double(pollTimeoutMS), left))))
        // A gathering wait ran its course when neither the mailbox nor an earlier deadline cut it short.
        gathered = gather.map { ready & 2 == 0 && until >= $0 } ?? false
        mailbox.awake(signalled: ready & 2 != 0)
    }

    /// Whether deliveries may wait in the socket: no consumer is within half its prefetch of its limit, and no
    /// publish waits for its confirm (``AMQPConfiguration/deliveryBatchWindow``).
    private var deliveriesMayWait: Bool {
        for ch in channels.values where ch.isOpen {
            if (ch.confirms?.count ?? 0) > 0 || !ch.waiting.isEmpty { return false }
            if !ch.consumers.isEmpty && !(ch.settler?.hasRoomToSpare ?? false) { return false }
        }
        return true
    }

    /// Reads and handles the frames already available, `limit` at most; returns how many.
    private func readAvailableFrames(limit: Int) -> Int {
        var zero = Glibc.timeval(tv_sec: 0, tv_usec: 0)
        var frame = amqp_frame_t()
        for count in 0..<limit {
            guard let c = conn else { return count }
            let rc = amqp_simple_wait_frame_noblock(c, &frame, &zero)
            if rc == AMQP_STATUS_TIMEOUT.rawValue { return count }
            if rc != AMQP_STATUS_OK.rawValue {
                connectionFailed(Self.libraryError(rc, "reading from the broker"))
                return count
            }
            handle(frame)
            releaseBuffers(channel: frame.channel)
        }
        return limit
    }

    /// Recycles librabbitmq-c's decode buffers once nothing queued still points into them.
    func releaseBuffers(channel: UInt16) {
        guard let c = conn else { return }
        if amqp_frames_enqueued(c) == 0 {
            amqp_maybe_release_buffers(c)
        } else {
            amqp_maybe_release_buffers_on_channel(c, channel)
        }
    }

    // MARK: shutdown

    /// Closes the connection politely and stops the thread. Runs on the I/O thread.
    func shutdown() {
        let error = AMQPError(.closedByClient, "the connection was closed by the application")
        if let c = conn {
            // A blocked connection is not read by the broker (memory or disk alarm): its close-ok would only
            // come after the RPC timeout. Closing the socket is enough there.
            if !shared.update({ $0.blocked }) {
                flushAcks(all: true)  // acks still waiting for company: written, or their jobs would run again
                _ = amqp_connection_close(c, AMQP_REPLY_SUCCESS)
            }
            amqp_destroy_connection(c)
        }
        link = .stopped
        for ch in channels.values {
            ch.invalidate(error)
            for consumer in ch.consumers.values { consumer.sink.finish() }
            ch.consumers.removeAll()
        }
        shared.update { $0.connected = false }
        shared.finishEvents()
    }

    // MARK: channel access for jobs

    /// The open channel `id`, or the error that explains why it cannot be used now.
    func requireChannel(_ id: UInt16) throws(AMQPError) -> (amqp_connection_state_t, ChannelState) {
        let c: amqp_connection_state_t
        switch link {
        case .connected(let open, _): c = open
        case .stopped: throw Mailbox.closedError
        case .failed(let error): throw AMQPError(.connectionLost, "the connection to the broker failed for good: \(error)")
        case .idle, .reconnecting: throw AMQPError(.connectionLost, "not connected to the broker (reconnecting)")
        }
        guard let ch = channels[id] else { throw AMQPError(.protocolError, "channel \(id) is not open") }
        guard ch.isOpen else {
            throw ch.closeError ?? AMQPError(.channelClosed, "channel \(id) is closed")
        }
        return (c, ch)
    }

    func nextEpoch() -> UInt64 {
        epochCounter += 1
        return epochCounter
    }
}

/// State readable from any thread: connection status and event listeners.
final class ConnectionShared: Sendable {
    struct State {
        var connected = false
        var blocked = false
        var listeners: [Int: AsyncStream<ConnectionEvent>.Continuation] = [:]
        var nextListener = 0
        var finished = false
    }

    private let state = Mutex(State())

    func update<T>(_ body: (inout State) -> T) -> T { state.withLock { body(&$0) } }

    func emit(_ event: ConnectionEvent) {
        let listeners = state.withLock { Array($0.listeners.values) }
        for l in listeners { l.yield(event) }
    }

    func events() -> AsyncStream<ConnectionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self, bufferingPolicy: .bufferingNewest(256))
        let id: Int? = state.withLock { s in
            if s.finished { return nil }
            let id = s.nextListener
            s.nextListener += 1
            s.listeners[id] = continuation
            return id
        }
        if let id {
            continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) } }
        } else {
            continuation.finish()
        }
        return stream
    }

    func finishEvents() {
        let listeners = state.withLock { s in
            s.finished = true
            let l = Array(s.listeners.values)
            s.listeners.removeAll()
            return l
        }
        for l in listeners { l.finish() }
    }
}
