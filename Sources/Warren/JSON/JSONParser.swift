import Foundation

/// A recursive-descent parser over a body's bytes, borrowed for the parse, writing ``JSONTape``'s entries.
struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var at = 0
    var entries: [JSONTape.Entry] = []
    var unescaped: [String] = []
    /// Nesting deeper than this is refused (and left to `JSONDecoder`): no stack overflow from a hostile body.
    static let maxDepth = 256

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        entries.reserveCapacity(16)
    }

    func error(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: at, reason: reason) }

    mutating func skipWhitespace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x0A, 0x0D, 0x09: at += 1
            default: return
            }
        }
    }

    /// Appends the value here (and everything inside it).
    mutating func value(depth: Int) throws(JSONSyntaxError) {
        skipWhitespace()
        guard at < bytes.count else { throw error("unexpected end of the body") }
        switch bytes[at] {
        case UInt8(ascii: "{"): try object(depth: depth + 1)
        case UInt8(ascii: "["): try array(depth: depth + 1)
        case UInt8(ascii: "\""): entries.append(try string().entry)
        case UInt8(ascii: "t"): try literal("true"); entries.append(.init(kind: .true, a: 0, b: 0))
        case UInt8(ascii: "f"): try literal("false"); entries.append(.init(kind: .false, a: 0, b: 0))
        case UInt8(ascii: "n"): try literal("null"); entries.append(.init(kind: .null, a: 0, b: 0))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): entries.append(try number())
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        guard at + n <= bytes.count else { throw error("unexpected end of the body") }
        for i in 0..<n where bytes[at + i] != word.utf8Start[i] { throw error("unexpected character") }
        at += n
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) {
        guard depth <= Self.maxDepth else { throw error("nested too deep") }
        at += 1
        let me = entries.count
        entries.append(.init(kind: .object, a: 0, b: 0))
        var count: Int32 = 0
        defer { entries[me].a = count; entries[me].b = Int32(entries.count) }
        skipWhitespace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return }
        // Keys seen, once an object is too large to search by looking at each member.
        var seen: Set<String>?
        while true {
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw error("expected a key") }
            let (key, ascii) = try string()
            // Keys are compared byte for byte, so only those whose bytes are their text (String compares
            // canonically equivalent text as equal; JSONDecoder's lookup does too): others go to JSONDecoder.
            guard key.kind == .string, ascii else {
                throw error("a key with an escape or a non-ASCII byte")
            }
            // JSONDecoder's choice between duplicates is its own: leave such a body to it.
            if count == JSONTape.smallObject {
                var all = Set<String>()
                forEachKey(of: me) { all.insert(text(of: $0)) }
                seen = all
            }
            var duplicate = false
            if seen != nil { duplicate = !seen!.insert(text(of: key)).inserted } else { forEachKey(of: me) { if same($0, key) { duplicate = true } } }
            if duplicate { throw error("duplicate key") }
            entries.append(key)
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw error("expected ':'") }
            at += 1
            try value(depth: depth)
            count += 1
            if try !anotherFollows(closer: UInt8(ascii: "}")) { return }
        }
    }

    /// Calls `body` with each key of the object at entry `object` parsed so far.
    private func forEachKey(of object: Int, _ body: (JSONTape.Entry) -> Void) {
        var i = object + 1
        while i < entries.count {
            body(entries[i])
            i = JSONTape.end(of: i + 1, in: entries)
        }
    }

    private func same(_ x: JSONTape.Entry, _ y: JSONTape.Entry) -> Bool {
        let n = Int(x.b - x.a)
        return n == Int(y.b - y.a) && (n == 0 || memcmp(bytes.baseAddress! + Int(x.a), bytes.baseAddress! + Int(y.a), n) == 0)
    }

    private func text(of key: JSONTape.Entry) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[Int(key.a)..<Int(key.b)]), as: UTF8.self)
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) {
        guard depth <= Self.maxDepth else { throw error("nested too deep") }
        at += 1
        let me = entries.count
        entries.append(.init(kind: .array, a: 0, b: 0))
        var count: Int32 = 0
        defer { entries[me].a = count; entries[me].b = Int32(entries.count) }
        skipWhitespace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return }
        while true {
            try value(depth: depth)
            count += 1
            if try !anotherFollows(closer: UInt8(ascii: "]")) { return }
        }
    }

    /// After an object's member or an array's element: `true` past a comma (another follows), `false` past
    /// `closer` (the container ends).
    private mutating func anotherFollows(closer: UInt8) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard at < bytes.count else { throw error("unexpected end of the body") }
        let byte = bytes[at]
        guard byte == UInt8(ascii: ",") || byte == closer else {
            throw error("expected ',' or '\(Character(Unicode.Scalar(closer)))'")
        }
        at += 1
        return byte == UInt8(ascii: ",")
    }

    /// A number, checked against JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    mutating func number() throws(JSONSyntaxError) -> JSONTape.Entry {
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
        if integral, let n = integer(from: start) { return .init(kind: .integer, a: 0, b: 0, integer: n) }
        return .init(kind: .number, a: Int32(start), b: Int32(at))
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
}
