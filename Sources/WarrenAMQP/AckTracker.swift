import DequeModule

/// Per-channel record of deliveries not yet settled, used on the I/O thread to turn many individual
/// acks into one `multiple` ack when that is safe: a `multiple` ack up to tag T is sent only when every
/// delivery up to T has been acked or otherwise settled by the application.
///
/// Pending acks wait a little for company before they are written (``flushDue(at:)``): up to
/// ``linger``, or until ``batch`` of them are pending, or not at all when they may be what holds the broker
/// back (``wakeDeadline(at:)``: the channel has less than half its prefetch to spare, or, its prefetch
/// unknown, no delivery is left unsettled). Acks behind a delivery still running cannot join a
/// `multiple` ack; they are held up to ``holdLimit``, by when the deliveries ahead of them have usually
/// finished and one `multiple` ack covers them all. Without the wait, jobs finishing one at a time cost one
/// `send` and one broker-side frame each; with it, a burst of them one `multiple` ack. An ack is never held
/// longer than ``holdLimit``, so a delivery that runs for long delays the acks behind it by that much at most.
///
/// Marking an ack does not by itself wake the I/O thread: ``wakeDeadline(at:)`` says by when it must look,
/// which is at once only in those cases. While acks flow,
/// ``lookDeadline(at:)`` has the I/O thread look again within ``linger`` even before the next ack, so that the
/// acks of a burst ride on a wake-up the thread has anyway (the next deliveries, or that short sleep's end).
struct AckTracker {
    private enum Entry: UInt8 { case unsettled, ackPending, settled }
    private var firstTag: UInt64 = 0
    private var entries: Deque<Entry> = []
    /// When each `.ackPending` entry was marked acked, `nil` for every other entry; aligned with `entries`.
    private var marked: Deque<ContinuousClock.Instant?> = []
    private(set) var hasPendingAcks = false
    /// Acks marked and not yet taken, and deliveries not yet settled at all.
    private var pendingCount = 0
    private var unsettledCount = 0
    /// When the oldest pending ack was marked (for ``holdLimit``).
    private var pendingSince: ContinuousClock.Instant?
    /// When the current wait for company began (for ``linger``): the first mark after a write, or the
    /// last write that left acks held.
    private var lingerSince: ContinuousClock.Instant?
    /// When an ack was last marked (for ``lookDeadline(at:)``).
    private var lastMarked: ContinuousClock.Instant?
    /// The channel's `basic.qos` prefetch count: `nil` while unknown, 0 for no limit. With it, acks go at once
    /// only when the channel has less than half of it to spare (``hasRoomToSpare``); without, when nothing else
    /// is unsettled.
    var prefetch: Int?

    /// Longest an ack waits for company. 2 ms: a fraction of any job's broker round trip, and far below
    /// what it would take to starve a consumer (``wakeDeadline(at:)`` never waits when the acks may be holding
    /// the broker back).
    static let linger: Duration = .milliseconds(2)
    /// Longest an ack behind a delivery still running is held, hoping to join a `multiple` ack.
    static let holdLimit: Duration = .milliseconds(6)
    /// Pending acks whose leading run is written at once, without waiting out the linger.
    static let batch = 64

    /// Records a delivery (tags on a channel are consecutive; a gap is filled as settled).
    mutating func delivered(_ tag: UInt64) {
        if entries.isEmpty { firstTag = tag }
        let expected = firstTag + UInt64(entries.count)
        if tag < expected { return }
        for _ in expected..<tag {
            entries.append(.settled)
            marked.append(nil)
        }
        entries.append(.unsettled)
        marked.append(nil)
        unsettledCount += 1
    }

    /// Forgets everything (the channel was closed or reopened).
    mutating func reset() {
        entries.removeAll()
        marked.removeAll()
        hasPendingAcks = false
        (pendingCount, unsettledCount, pendingSince, lingerSince, lastMarked) = (0, 0, nil, nil, nil)
    }

    /// Whether acks should be written now (see the type's comment), at `now`: once ``wakeDeadline(at:)`` has
    /// come.
    func flushDue(at now: ContinuousClock.Instant) -> Bool {
        wakeDeadline(at: now).map { $0 <= now } ?? false
    }

    /// When acks fall due at the latest (`nil`: none pending).
    var flushDeadline: ContinuousClock.Instant? {
        guard hasPendingAcks, let held = pendingSince, let since = lingerSince else { return nil }
        return entries.first == .ackPending ? min(since + Self.linger, held + Self.holdLimit) : held + Self.holdLimit
    }

    /// By when the pending acks are to be written (`nil`: none pending). At once when waiting could hold the
    /// broker back: a ``batch`` pending at the front; or acks at the front while the channel has no longer
    /// half its prefetch to spare (``hasRoomToSpare``); or, the prefetch unknown, nothing left unsettled.
    /// Otherwise ``flushDeadline``: the acks wait for company, and for a wake-up the I/O thread has anyway.
    func wakeDeadline(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard hasPendingAcks else { return nil }
        let front = entries.first == .ackPending
        if front && pendingCount >= Self.batch { return now }
        if prefetch == nil ? unsettledCount == 0 : front && !hasRoomToSpare { return now }
        return flushDeadline
    }

    /// By when the I/O thread should look again (`nil`: no need): ``flushDeadline``, or within ``linger``
    /// while deliveries are unsettled and an ack came in the last ``holdLimit`` (more are likely on their way,
    /// and they then need no wake-up of their own).
    func lookDeadline(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        var deadline = flushDeadline
        if unsettledCount > 0, let last = lastMarked, now - last < Self.holdLimit {
            deadline = min(deadline ?? now + Self.linger, now + Self.linger)
        }
        return deadline
    }

    /// Whether the broker may send at least half the prefetch more before this channel's limit stops it
    /// (deliveries unsettled or acked but not yet written count against it). `false` while the prefetch is
    /// unknown.
    var hasRoomToSpare: Bool {
        guard let prefetch else { return false }
        return prefetch == 0 || 2 * (pendingCount + unsettledCount) <= prefetch
    }

    /// Whether every pending ack goes now, those behind a running delivery included.
    private func releasesAll(at now: ContinuousClock.Instant) -> Bool {
        guard unsettledCount > 0, let since = pendingSince else { return true }
        return now - since >= Self.holdLimit
    }

    private func index(_ tag: UInt64) -> Int? {
        guard tag >= firstTag, tag - firstTag < UInt64(entries.count) else { return nil }
        return Int(tag - firstTag)
    }

    /// Whether `tag` is a delivery still waiting for its settlement.
    func isUnsettled(_ tag: UInt64) -> Bool {
        guard let i = index(tag) else { return false }
        return entries[i] == .unsettled
    }

    /// Marks `tag` (and with `multiple` every earlier unsettled tag) as acked-to-send. `false` if unknown.
    mutating func markAck(_ tag: UInt64, multiple: Bool, at now: ContinuousClock.Instant = .now) -> Bool {
        guard let i = index(tag), entries[i] == .unsettled else { return false }
        let range = multiple ? 0...i : i...i
        for j in range where entries[j] == .unsettled {
            entries[j] = .ackPending
            marked[j] = now
            pendingCount += 1
            unsettledCount -= 1
        }
        if !hasPendingAcks { (pendingSince, lingerSince) = (now, now) }
        hasPendingAcks = true
        lastMarked = now
        return true
    }

    /// Marks `tag` (and with `multiple` every earlier unsettled tag) as settled by a nack/reject sent now.
    mutating func markSettled(_ tag: UInt64, multiple: Bool) -> Bool {
        guard let i = index(tag), entries[i] == .unsettled else { return false }
        let range = multiple ? 0...i : i...i
        for j in range where entries[j] == .unsettled {
            entries[j] = .settled
            unsettledCount -= 1
        }
        trim()
        return true
    }

    /// The ack frames to send now, coalesced: `(tag, multiple)` pairs. With `now`, acks behind a delivery
    /// still running stay pending until ``holdLimit`` (or until nothing else is unsettled); without, all go.
    mutating func takeAcks(at now: ContinuousClock.Instant? = nil) -> [(tag: UInt64, multiple: Bool)] {
        guard hasPendingAcks else { return [] }
        let all = now.map { releasesAll(at: $0) } ?? true
        var frames: [(tag: UInt64, multiple: Bool)] = []
        // Leading run of acked/settled entries: one multiple ack up to its last pending ack.
        var lastPendingInPrefix: Int? = nil
        var pendingInPrefix = 0
        var i = 0
        while i < entries.count, entries[i] != .unsettled {
            if entries[i] == .ackPending {
                lastPendingInPrefix = i
                pendingInPrefix += 1
            }
            i += 1
        }
        if let last = lastPendingInPrefix {
            frames.append((firstTag + UInt64(last), pendingInPrefix > 1))
            for j in 0...last { (entries[j], marked[j]) = (.settled, nil) }
            pendingCount -= pendingInPrefix
        }
        // Acks behind an unsettled delivery go one by one, when they go.
        while all, i < entries.count {
            if entries[i] == .ackPending {
                frames.append((firstTag + UInt64(i), false))
                entries[i] = .settled
                marked[i] = nil
                pendingCount -= 1
            }
            i += 1
        }
        hasPendingAcks = pendingCount > 0
        trim()
        if !hasPendingAcks {
            (pendingSince, lingerSince) = (nil, nil)
        } else {
            // The held acks' own age, for the hold limit; and a new wait for company from this write.
            pendingSince = marked.lazy.compactMap { $0 }.min()
            if let now { lingerSince = now }
        }
        return frames
    }

    private mutating func trim() {
        while let first = entries.first, first == .settled {
            entries.removeFirst()
            marked.removeFirst()
            firstTag += 1
        }
    }
}
