import Synchronization

/// Settlement state of one channel incarnation (epoch), shared by the I/O thread and every task that holds
/// one of its deliveries.
///
/// Acks never wait for the I/O thread: ``ack(_:multiple:)`` marks the delivery in the ``AckTracker`` under a
/// lock and tells the mailbox by when the I/O thread must look (``AckTracker/wakeDeadline(at:)``). The
/// mailbox wakes the thread only if it sleeps past that (``Mailbox/wake(by:)``); while acks flow it sleeps
/// no longer than ``AckTracker/linger`` (``AckTracker/lookDeadline(at:)``), so the acks of a burst ride on
/// the wake-up of the next deliveries, or of that short sleep's end, and need none of their own. The thread
/// then writes them, coalesced into `multiple` acks where that is safe. Nacks and rejects take the mailbox
/// round trip: they are rare, and a `multiple` nack must not overtake acks still pending.
///
/// When the channel closes or the connection is lost the settler is invalidated: its deliveries can no longer
/// be settled (the broker requeues them), and acks marked but not yet written are dropped with it, which
/// at-least-once delivery allows.
final class DeliverySettler: Sendable {
    let mailbox: Mailbox
    let channel: UInt16
    let epoch: UInt64

    private struct State {
        var tracker = AckTracker()
        var valid = true
    }
    private let state = Mutex(State())

    init(mailbox: Mailbox, channel: UInt16, epoch: UInt64) {
        self.mailbox = mailbox
        self.channel = channel
        self.epoch = epoch
    }

    nonisolated(nonsending) func settle(tag: UInt64, _ how: Settlement) async throws(AMQPError) {
        if case .ack(let multiple) = how {
            try ack(tag, multiple: multiple)
            return
        }
        let (channel, epoch) = (self.channel, self.epoch)
        try await mailbox.call { core throws(AMQPError) in
            try core.settle(channel: channel, epoch: epoch, tag: tag, how)
        }
    }

    /// Marks an ack for the I/O thread to write; never suspends.
    func ack(_ tag: UInt64, multiple: Bool) throws(AMQPError) {
        let now = ContinuousClock.now
        let deadline = try state.withLock { s throws(AMQPError) -> ContinuousClock.Instant? in
            guard s.valid else { throw Self.stale(tag) }
            guard s.tracker.markAck(tag, multiple: multiple, at: now) else { throw Self.alreadySettled(tag) }
            return s.tracker.wakeDeadline(at: now)
        }
        if let deadline, !mailbox.wake(by: deadline) { throw Self.stale(tag) }
    }

    // MARK: I/O thread side

    func delivered(_ tag: UInt64) { state.withLock { $0.tracker.delivered(tag) } }

    /// Marks a delivery settled by a nack or reject the caller sends now.
    func markSettled(_ tag: UInt64, multiple: Bool) throws(AMQPError) {
        try state.withLock { s throws(AMQPError) in
            guard s.valid else { throw Self.stale(tag) }
            guard s.tracker.markSettled(tag, multiple: multiple) else { throw Self.alreadySettled(tag) }
        }
    }

    var hasPendingAcks: Bool { state.withLock { $0.valid && $0.tracker.hasPendingAcks } }

    /// Whether the pending acks are to be written now (``AckTracker/flushDue(at:)``).
    func flushDue(at now: ContinuousClock.Instant) -> Bool { state.withLock { $0.valid && $0.tracker.flushDue(at: now) } }

    /// By when the I/O thread should look at this channel's acks again (``AckTracker/lookDeadline(at:)``).
    func lookDeadline(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        state.withLock { $0.valid ? $0.tracker.lookDeadline(at: now) : nil }
    }

    /// ``AckTracker/hasRoomToSpare`` (`true` once invalidated: nothing more comes on this epoch).
    var hasRoomToSpare: Bool { state.withLock { !$0.valid || $0.tracker.hasRoomToSpare } }

    /// Records the channel's `basic.qos` prefetch count (0: no limit), for ``AckTracker/wakeDeadline(at:)``.
    func setPrefetch(_ count: Int) { state.withLock { $0.tracker.prefetch = count } }

    /// The coalesced ack frames to write now: with `now`, as ``AckTracker/takeAcks(at:)`` holds them; without,
    /// every pending one.
    func takeAcks(at now: ContinuousClock.Instant? = nil) -> [(tag: UInt64, multiple: Bool)] {
        state.withLock { $0.valid ? $0.tracker.takeAcks(at: now) : [] }
    }

    func invalidate() { state.withLock { $0.valid = false; $0.tracker.reset() } }

    static func stale(_ tag: UInt64) -> AMQPError {
        AMQPError(.staleDelivery, "delivery \(tag) came on a channel or connection that has since closed; the broker has requeued it")
    }

    static func alreadySettled(_ tag: UInt64) -> AMQPError {
        AMQPError(.protocolError, "delivery \(tag) is unknown or already settled on this channel")
    }
}
