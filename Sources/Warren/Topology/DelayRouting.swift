/// Delays without a plugin: 32 delay levels, level *L* a queue whose per-queue TTL is 2^L ms, routed by the
/// binary digits of the delay (the scheme NServiceBus and Celery 5.5 use, in milliseconds).
///
/// A delayed message is published to ``WireFormat/delayExchange`` with routing key
/// `b31.b30.….b0.<queue>`: 32 words `0`/`1`, the delay in ms, most significant first, then the queue name.
/// Queue `warren.delay.K` holds messages for exactly 2^K ms (per-queue TTL), then dead-letters them to the
/// exchange of level K-1. The exchange of level L (``WireFormat/delayExchange`` for L = 31, else
/// `warren.delay.L`) routes a message straight to the queue of the highest 1 digit at or below L, or, when
/// those digits are all 0, to ``WireFormat/deliverExchange``, which hands it to the work queue bound with
/// 32 `*` and its name.
///
/// So a delay costs one queue hop per 1 digit and one exchange per hop: RabbitMQ's topic matching of these
/// 33-word keys takes about 0.3 ms an exchange, so a chain of 32 exchange-to-exchange bindings (the
/// NServiceBus layout) would cost some 10 ms a message and cap delayed publishes near 100/s per channel.
/// Every queue holds one TTL, so nothing ever waits behind a longer delay. Longer delays than 2^32-1 ms
/// (49.7 days) go the longest way and carry ``WireFormat/Header/runAt``: the worker sends them round again.
public enum DelayRouting {
    /// Number of delay levels.
    public static let levels = 32
    /// Longest delay one pass can express, in ms.
    public static let maxDelayMilliseconds: UInt64 = (1 << 32) - 1

    /// The exchange of level `level` (the top level's is the entry exchange ``WireFormat/delayExchange``).
    public static func exchange(level: Int) -> String {
        level == levels - 1 ? WireFormat.delayExchange : "warren.delay.\(level)"
    }
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

    /// Binding key on level `level`'s exchange that selects queue `target` (`target` <= `level`): digits
    /// `level` down to `target + 1` are 0 and digit `target` is 1; `nil` selects the deliver exchange (all 0).
    static func bindingKey(level: Int, target: Int?) -> String {
        let skipped = String(repeating: "*.", count: levels - 1 - level)
        guard let target else { return skipped + String(repeating: "0.", count: level + 1) + "#" }
        return skipped + String(repeating: "0.", count: level - target) + "1.#"
    }

    /// Binding key on the deliver exchange for a work queue.
    static func deliverKey(queue: String) -> String {
        String(repeating: "*.", count: levels) + queue
    }
}
