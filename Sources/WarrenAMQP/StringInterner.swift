import CRabbitMQ
import Glibc

/// A few strings the broker sends again and again (a consumer's tag, the exchange and routing key of its
/// deliveries, a queue's job names), each decoded from the frame's bytes once and then handed out again
/// whenever the same bytes come: no allocation and no UTF-8 check per message for them.
///
/// Holds at most ``capacity`` strings of at most ``maxBytes`` bytes each, replaced round-robin; a string it
/// does not hold is decoded as usual. Not thread-safe: owned by one connection's I/O thread.
struct StringInterner {
    /// How many strings are kept.
    static let capacity = 16
    /// Longer strings are never kept (message ids and such are unique anyway).
    static let maxBytes = 255

    private var kept: [String] = []
    private var next = 0

    /// `bytes` as a string: `amqp_bytes_t.string`'s, made once for bytes it keeps.
    mutating func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let base = bytes.bytes else { return "" }
        let count = bytes.len
        guard count <= Self.maxBytes else { return bytes.string }
        for i in kept.indices where kept[i].utf8.count == count {
            var s = kept[i]
            if s.withUTF8({ memcmp($0.baseAddress!, base, count) == 0 }) { return s }
        }
        let s = bytes.string
        if kept.count < Self.capacity {
            kept.append(s)
        } else {
            kept[next] = s
            next = (next + 1) % Self.capacity
        }
        return s
    }
}
