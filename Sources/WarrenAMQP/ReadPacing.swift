/// When the I/O thread reads the socket: at once, or after letting deliveries gather for a window
/// (``AMQPConfiguration/deliveryBatchWindow``). I/O thread only.
///
/// Every wake-up costs a context switch of the I/O thread and, when it hands deliveries on, of a pool thread;
/// on a small or virtual machine those cost more than the few deliveries of a small burst. So once reads
/// come within a window of each other (a steady flow, faster than the worker's wake-ups are cheap), the
/// thread sleeps through the window with only its mailbox awake, then reads what gathered: one wake-up per
/// window. A gathering wait that finds nothing ends the flow; the next delivery is read at once.
///
/// Whether the deliveries may wait at all (the consumers' prefetch room, confirms) is the caller's to say;
/// this type only keeps the timing.
struct ReadPacing {
    /// The gathering window; `.zero` never gathers.
    let window: Duration
    /// When a read last brought frames.
    private(set) var lastRead: ContinuousClock.Instant?
    /// Whether the flow is steady enough to gather.
    private(set) var gathering = false

    init(window: Duration) { self.window = window }

    /// Records a loop turn's read: `frames` read at `now`, `afterGathering` when the turn followed a gathering
    /// wait that ended on its own (not on the mailbox).
    mutating func read(frames: Int, at now: ContinuousClock.Instant, afterGathering: Bool) {
        guard window > .zero else { return }
        if frames > 0 {
            if afterGathering || lastRead.map({ now - $0 < window }) == true { gathering = true }
            lastRead = now
        } else if afterGathering {
            gathering = false
        }
    }

    /// Until when the socket is left alone (`nil`: watch it now).
    func gatherDeadline(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard gathering, let lastRead, lastRead + window > now else { return nil }
        return lastRead + window
    }

    /// Forgets the flow (the connection was lost or replaced).
    mutating func reset() { (lastRead, gathering) = (nil, false) }
}
