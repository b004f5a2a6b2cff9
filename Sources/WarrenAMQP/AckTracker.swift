import DequeModule

/// Per-channel record of deliveries not yet settled, used on the I/O thread to turn many individual
/// acks into one `multiple` ack when that is safe: a `multiple` ack up to tag T is sent only when every
/// delivery up to T has been acked or otherwise settled by the application.
struct AckTracker {
    private enum Entry: UInt8 { case unsettled, ackPending, settled }
    private var firstTag: UInt64 = 0
    private var entries: Deque<Entry> = []
    private(set) var hasPendingAcks = false

    /// Records a delivery (tags on a channel are consecutive; a gap is filled as settled).
    mutating func delivered(_ tag: UInt64) {
        if entries.isEmpty { firstTag = tag }
        let expected = firstTag + UInt64(entries.count)
        if tag < expected { return }
        for _ in expected..<tag { entries.append(.settled) }
        entries.append(.unsettled)
    }

    /// Forgets everything (the channel was closed or reopened).
    mutating func reset() {
        entries.removeAll()
        hasPendingAcks = false
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
    mutating func markAck(_ tag: UInt64, multiple: Bool) -> Bool {
        guard let i = index(tag), entries[i] == .unsettled else { return false }
        let range = multiple ? 0...i : i...i
        for j in range where entries[j] == .unsettled { entries[j] = .ackPending }
        hasPendingAcks = true
        return true
    }

    /// Marks `tag` (and with `multiple` every earlier unsettled tag) as settled by a nack/reject sent now.
    mutating func markSettled(_ tag: UInt64, multiple: Bool) -> Bool {
        guard let i = index(tag), entries[i] == .unsettled else { return false }
        let range = multiple ? 0...i : i...i
        for j in range where entries[j] == .unsettled { entries[j] = .settled }
        trim()
        return true
    }

    /// The ack frames to send now, coalesced: `(tag, multiple)` pairs.
    mutating func takeAcks() -> [(tag: UInt64, multiple: Bool)] {
        guard hasPendingAcks else { return [] }
        hasPendingAcks = false
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
            for j in 0...last { entries[j] = .settled }
        }
        // Acks behind an unsettled delivery go one by one.
        while i < entries.count {
            if entries[i] == .ackPending {
                frames.append((firstTag + UInt64(i), false))
                entries[i] = .settled
            }
            i += 1
        }
        trim()
        return frames
    }

    private mutating func trim() {
        while let first = entries.first, first == .settled {
            entries.removeFirst()
            firstTag += 1
        }
    }
}
