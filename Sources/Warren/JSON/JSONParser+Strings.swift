extension JSONParser {
    /// A string at the opening quote, UTF-8 validated: its bytes' place, or (with escapes) the string with
    /// its escapes resolved, kept in ``unescaped``; `ascii`: no escape and no byte above 0x7F.
    mutating func string() throws(JSONSyntaxError) -> (entry: JSONTape.Entry, ascii: Bool) {
        at += 1
        let start = at
        var ascii = true
        while at < bytes.count {
            skipPlainBytes()
            guard at < bytes.count else { break }
            let b = bytes[at]
            if b == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<at])
                at += 1
                if !ascii, String(validating: raw, as: UTF8.self) == nil { throw error("invalid UTF-8") }
                return (.init(kind: .string, a: Int32(start), b: Int32(at - 1)), ascii)
            }
            if b == UInt8(ascii: "\\") {
                unescaped.append(try escapedString(from: start))
                return (.init(kind: .escapedString, a: Int32(unescaped.count - 1), b: 0), false)
            }
            if b < 0x20 { throw error("control character in a string") }
            if b >= 0x80 { ascii = false }
            at += 1
        }
        throw error("unterminated string")
    }

    /// Skips bytes eight at a time while none of them is a quote, a backslash, a control character or
    /// non-ASCII (a word with one is left to the byte-by-byte loop, which also takes any false alarm).
    @inline(__always)
    mutating func skipPlainBytes() {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        while at + 8 <= bytes.count {
            let w = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w) | w
            if special & highs != 0 { return }
            at += 8
        }
    }

    /// The rest of a string that has escapes, from its first byte `start`.
    mutating func escapedString(from start: Int) throws(JSONSyntaxError) -> String {
        var out = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<at]))
        while at < bytes.count {
            let b = bytes[at]
            at += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8") }
                return s
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { throw error("unterminated string") }
                let e = bytes[at]
                at += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
                default: throw error("invalid escape")
                }
            case ..<0x20: throw error("control character in a string")
            default: out.append(b)
            }
        }
        throw error("unterminated string")
    }

    /// `XXXX` after `\u` (and a low surrogate's `\uXXXX` after a high one), as UTF-8.
    mutating func unicodeEscape() throws(JSONSyntaxError) -> [UInt8] {
        var scalar = try hex4()
        if (0xD800..<0xDC00).contains(scalar) {
            guard at + 6 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                throw error("lone surrogate")
            }
            at += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("lone surrogate") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let u = Unicode.Scalar(scalar) else { throw error("lone surrogate") }
        return Array(String(Character(u)).utf8)
    }

    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard at + 4 <= bytes.count else { throw error("unterminated string") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[at]
            let d: UInt8 = switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
            at += 1
        }
        return v
    }
}
