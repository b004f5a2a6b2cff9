/// A recursive-descent parser over a body's bytes, borrowed for the parse.
struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var at = 0
    /// Nesting deeper than this is refused (and left to `JSONDecoder`): no stack overflow from a hostile body.
    static let maxDepth = 256

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
            if members.count == JSONNode.smallObject { seen = Set(members.map(\.key)) }
            let duplicate = seen != nil ? !seen!.insert(key).inserted : members.contains { $0.key == key }
            if duplicate { throw error("duplicate key") }
            skipWhitespace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw error("expected ':'") }
            at += 1
            members.append((key, try value(depth: depth)))
            if try !anotherFollows(closer: UInt8(ascii: "}")) { return .object(members) }
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
            if try !anotherFollows(closer: UInt8(ascii: "]")) { return .array(elements) }
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
}
