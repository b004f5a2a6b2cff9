/// A parsed JSON value, as ``NodeDecoder`` reads it: objects keep their members in document order, numbers
/// keep their text unless they are integers that fit in 64 bits.
///
/// The parser is strict on purpose: anything it is not sure to read exactly as Foundation's `JSONDecoder`
/// does (a byte order mark, UTF-16, a duplicate key) is a ``JSONSyntaxError``, and ``JSONArguments`` then
/// leaves the body to `JSONDecoder`, whose answer stands. So it may refuse more than `JSONDecoder`, never less.
enum JSONNode: Sendable {
    case null
    case bool(Bool)
    /// An integer literal (no fraction, no exponent) within `Int64`.
    case integer(Int64)
    /// Any other number, as written (already checked against JSON's number grammar).
    case number(String)
    case string(String)
    case array([JSONNode])
    case object([(key: String, value: JSONNode)])

    /// Parses `bytes` (UTF-8) as one JSON value, whitespace around it allowed.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONNode {
        var parser = JSONParser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.at == bytes.count else { throw parser.error("unexpected text after the value") }
        return value
    }

    /// How `JSONDecoder`'s type mismatch messages name a value ("a string", "null", ...).
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a bool"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "a dictionary"
        }
    }
}

/// Where and why ``JSONNode/parse(_:)`` refused a body.
struct JSONSyntaxError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String
    var description: String { "\(reason) at byte \(offset)" }
}

/// A recursive-descent parser over a body's bytes, borrowed for the parse.
private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var at = 0
    /// Nesting deeper than this is refused (and left to `JSONDecoder`): no stack overflow from a hostile body.
    static let maxDepth = 256
    /// Members up to which an object is searched member by member (beyond it, by a hash of the keys).
    static let smallObject = 16

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func error(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: at, reason: reason) }

    mutating func skipWhitespace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x0A, 0x0D, 0x09: at += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONNode {
        skipWhitespace()
        guard at < bytes.count else { throw error("unexpected end of the body") }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        guard at + n <= bytes.count else { throw error("unexpected end of the body") }
        for i in 0..<n where bytes[at + i] != word.utf8Start[i] { throw error("unexpected character") }
        at += n
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONNode {
        guard depth <= Self.maxDepth else { throw error("nested too deep") }
        at += 1
        var members: [(key: String, value: JSONNode)] = []
        skipWhitespace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
        members.reserveCapacity(8)
        // Keys seen, once an object is too large to search by looking at each member.
        var seen: Set<String>?
        while true {
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw error("expected a key") }
            let key = try string()
            // JSONDecoder's choice between duplicates is its own: leave such a body to it.
            if members.count == Self.smallObject { seen = Set(members.map(\.key)) }
            let duplicate = seen != nil ? !seen!.insert(key).inserted : members.contains { $0.key == key }
            if duplicate { throw error("duplicate key") }
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw error("expected ':'") }
            at += 1
            members.append((key, try value(depth: depth)))
            skipWhitespace()
            guard at < bytes.count else { throw error("unexpected end of the body") }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            guard bytes[at] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
            at += 1
            return .object(members)
        }
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONNode {
        guard depth <= Self.maxDepth else { throw error("nested too deep") }
        at += 1
        var elements: [JSONNode] = []
        skipWhitespace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(elements) }
        elements.reserveCapacity(4)
        while true {
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard at < bytes.count else { throw error("unexpected end of the body") }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            guard bytes[at] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
            at += 1
            return .array(elements)
        }
    }

    /// A number, checked against JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    mutating func number() throws(JSONSyntaxError) -> JSONNode {
        let start = at
        if bytes[at] == UInt8(ascii: "-") { at += 1 }
        let intStart = at
        guard digits() > 0 else { throw error("expected a digit") }
        if bytes[intStart] == UInt8(ascii: "0"), at - intStart > 1 { throw error("leading zero") }
        var integral = true
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard digits() > 0 else { throw error("expected a digit") }
            integral = false
        }
        if at < bytes.count, bytes[at] | 0x20 == UInt8(ascii: "e") {
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { throw error("expected a digit") }
            integral = false
        }
        if integral, let n = integer(from: start) { return .integer(n) }
        return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self))
    }

    /// Skips ASCII digits; how many.
    mutating func digits() -> Int {
        let start = at
        while at < bytes.count, bytes[at] &- UInt8(ascii: "0") < 10 { at += 1 }
        return at - start
    }

    /// The integer literal from `start` to here, if it fits in `Int64`.
    func integer(from start: Int) -> Int64? {
        var i = start
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var n: Int64 = 0
        while i < at {
            let d = Int64(bytes[i] &- UInt8(ascii: "0"))
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            n = s
            i += 1
        }
        return n
    }

    /// A string at the opening quote; escapes resolved, UTF-8 validated.
    mutating func string() throws(JSONSyntaxError) -> String {
        at += 1
        let start = at
        var ascii = true
        while at < bytes.count {
            let b = bytes[at]
            if b == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<at])
                at += 1
                if ascii { return String(decoding: raw, as: UTF8.self) }
                guard let s = String(validating: raw, as: UTF8.self) else { throw error("invalid UTF-8") }
                return s
            }
            if b == UInt8(ascii: "\\") { return try escapedString(from: start) }
            if b < 0x20 { throw error("control character in a string") }
            if b >= 0x80 { ascii = false }
            at += 1
        }
        throw error("unterminated string")
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
