import Synchronization

/// Job ids: random version-4 UUIDs in lowercase text, drawn from a fast generator seeded once from the
/// system's random source (a system-random UUID per job costs a syscall, a measurable share of enqueueing).
public enum JobID {
    private static let generator = Mutex(Xoshiro256StarStar())

    /// A new random id, e.g. `3b241101-e2bb-4255-8caf-4136c566a962`.
    public static func make() -> String {
        let (a, b) = generator.withLock { g in (g.next(), g.next()) }
        // Written straight into the string's storage: no intermediate arrays.
        return String(unsafeUninitializedCapacity: 36) { out in
            let hex: StaticString = "0123456789abcdef"
            let digits = hex.utf8Start
            var o = 0
            for i in 0..<16 {
                var byte = UInt8(truncatingIfNeeded: (i < 8 ? a : b) >> (8 * UInt64(i % 8)))
                if i == 6 { byte = (byte & 0x0F) | 0x40 }  // version 4
                if i == 8 { byte = (byte & 0x3F) | 0x80 }  // RFC 4122 variant
                if i == 4 || i == 6 || i == 8 || i == 10 { out[o] = UInt8(ascii: "-"); o += 1 }
                out[o] = digits[Int(byte >> 4)]
                out[o + 1] = digits[Int(byte & 0x0F)]
                o += 2
            }
            return o
        }
    }
}

/// xoshiro256** (Blackman and Vigna), seeded from the system random source.
struct Xoshiro256StarStar: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init() {
        var system = SystemRandomNumberGenerator()
        s = (system.next(), system.next(), system.next(), system.next())
        if s == (0, 0, 0, 0) { s.0 = 0x9E37_79B9_7F4A_7C15 }
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }
}
