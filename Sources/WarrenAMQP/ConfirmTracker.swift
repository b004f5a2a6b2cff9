import DequeModule

/// Publisher-confirm bookkeeping for one channel in confirm mode (I/O thread only).
///
/// Sequence numbers start at 1 after `confirm.select` and restart when the channel is reopened.
/// `basic.return` carries no sequence number; it arrives before the ack of the message it returns, so it
/// is matched to the oldest outstanding mandatory publish with the same message id (when set) or the same
/// exchange and routing key.
struct ConfirmTracker {
    typealias Completion = @Sendable (Result<PublishOutcome, AMQPError>) -> Void

    struct Outstanding {
        let seq: UInt64
        let waiter: PublishWaiter
        let mandatory: Bool
        let exchange: String
        let routingKey: String
        let messageID: String?
        var returned: (UInt16, String)? = nil
        var done = false
    }

    private(set) var nextSeq: UInt64 = 1
    private var outstanding: Deque<Outstanding> = []
    /// Most unconfirmed publishes at once.
    let window: Int

    init(window: Int) { self.window = max(1, window) }

    var count: Int { outstanding.count }
    var hasRoom: Bool { outstanding.count < window }

    mutating func add(_ message: OutgoingMessage, waiter: PublishWaiter) {
        // Only a mandatory publish can be returned: the others need nothing to match a return against.
        let m = message.mandatory
        outstanding.append(Outstanding(seq: nextSeq, waiter: waiter, mandatory: m,
                                       exchange: m ? message.exchange : "", routingKey: m ? message.routingKey : "",
                                       messageID: m ? message.properties.messageID : nil))
        nextSeq += 1
    }

    mutating func confirm(tag: UInt64, multiple: Bool, acked: Bool) {
        guard !outstanding.isEmpty else { return }
        let first = outstanding[outstanding.startIndex].seq
        guard tag >= first else { return }
        let offset = tag - first
        if !multiple && offset >= UInt64(outstanding.count) { return }
        let last = Int(min(offset, UInt64(outstanding.count - 1)))
        for i in (multiple ? 0 : last)...last where !outstanding[i].done {
            outstanding[i].done = true
            let outcome: PublishOutcome
            if !acked {
                outcome = .nacked
            } else if let (code, text) = outstanding[i].returned {
                outcome = .returned(replyCode: code, replyText: text)
            } else {
                outcome = .acked
            }
            outstanding[i].waiter.complete(.success(outcome))
        }
        while !outstanding.isEmpty && outstanding[outstanding.startIndex].done { outstanding.removeFirst() }
    }

    mutating func returned(exchange: String, routingKey: String, messageID: String?, code: UInt16, text: String) {
        func matches(_ o: Outstanding, byID: Bool) -> Bool {
            guard o.mandatory, !o.done, o.returned == nil else { return false }
            if byID { return o.messageID == messageID }
            return o.exchange == exchange && o.routingKey == routingKey
        }
        let index = (messageID != nil ? outstanding.firstIndex { matches($0, byID: true) } : nil)
            ?? outstanding.firstIndex { matches($0, byID: false) }
        if let index { outstanding[index].returned = (code, text) }
    }

    /// Fails every outstanding publish (connection or channel lost: the outcome is unknown).
    mutating func failAll(_ error: AMQPError) {
        let pending = outstanding
        outstanding.removeAll()
        for o in pending where !o.done { o.waiter.complete(.failure(error)) }
    }
}

/// Who is told a publish's outcome, on the I/O thread: one caller's completion, or a slot of a batch (no
/// closure allocated per message, which counts at tens of thousands of publishes a second).
enum PublishWaiter {
    case single(ConfirmTracker.Completion)
    case batch(BatchCollector, index: Int)

    func complete(_ result: Result<PublishOutcome, AMQPError>) {
        switch self {
        case .single(let completion): completion(result)
        case .batch(let collector, let index): collector.set(index, result)
        }
    }
}
