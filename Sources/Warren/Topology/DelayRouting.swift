/// Delays without a plugin: 32 delay levels, level *L* a queue whose per-queue TTL is 2^L ms, routed by the
/// binary digits of the delay (the scheme NServiceBus and Celery 5.5 use, in milliseconds).
///
/// A delayed message is published to ``WireFormat/delayExchange`` with routing key
/// `b31.b30.….b0.<queue>`: 32 words `0`/`1`, the delay in ms, most significant first, then the queue name.
/// Level exchange `warren.delay.L` sends it into queue `warren.delay.L` when digit L is 1 (there it waits
/// exactly 2^L ms, then is dead-lettered on to level L-1) and straight on to level L-1 when it is 0. After
/// level 0, ``WireFormat/deliverExchange`` hands it to the work queue bound with 32 `*` and its name.
/// Every queue holds one TTL, so nothing ever waits behind a longer delay; a delay costs one queue hop per
/// 1 digit. Longer delays than 2^32-1 ms (49.7 days) go the longest way and carry
/// ``WireFormat/Header/runAt``: the worker sends them round again for the rest.
public enum DelayRouting {
    /// Number of delay levels.
    public static let levels = 32
    /// Longest delay one pass can express, in ms.
    public static let maxDelayMilliseconds: UInt64 = (1 << 32) - 1

    /// The exchange of level `level`.
    public static func exchange(level: Int) -> String { "warren.delay.\(level)" }
    /// The queue of level `level`.
    public static func queue(level: Int) -> String { "warren.delay.\(level)" }

    /// The routing key that delays by `milliseconds` (capped at ``maxDelayMilliseconds``) on the way to `queue`.
    public static func routingKey(milliseconds: UInt64, queue: String) -> String {
        let ms = min(milliseconds, maxDelayMilliseconds)
        var words = [String]()
        words.reserveCapacity(levels + 1)
        for level in stride(from: levels - 1, through: 0, by: -1) {
            words.append((ms >> UInt64(level)) & 1 == 1 ? "1" : "0")
        }
        words.append(queue)
        return words.joined(separator: ".")
    }

    /// The levels whose queues a delay passes through, highest first.
    public static func levels(for milliseconds: UInt64) -> [Int] {
        let ms = min(milliseconds, maxDelayMilliseconds)
        return stride(from: levels - 1, through: 0, by: -1).filter { (ms >> UInt64($0)) & 1 == 1 }
    }

    /// Binding key on level `level`'s exchange for digit value `digit`.
    static func bindingKey(level: Int, digit: Character) -> String {
        String(repeating: "*.", count: levels - 1 - level) + "\(digit).#"
    }

    /// Binding key on the deliver exchange for a work queue.
    static func deliverKey(queue: String) -> String {
        String(repeating: "*.", count: levels) + queue
    }
}
