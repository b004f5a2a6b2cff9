import Foundation

/// A parsed JSON body as a flat list of its values in document order (a tape), as ``NodeDecoder`` reads it.
/// A container's entry holds how many values it has and where its last one ends; an object's members are
/// key then value. Strings, and numbers other than 64-bit integers, keep their place in the body, so nothing
/// is copied out of the body until the decoder asks for that value: a job's arguments often carry fields
/// its type does not read.
///
/// The parser is strict on purpose: anything it is not sure to read exactly as Foundation's `JSONDecoder`
/// does (a byte order mark, UTF-16, a duplicate key, a key with an escape or a non-ASCII byte) is a
/// ``JSONSyntaxError``, and ``JSONArguments`` then leaves the body to `JSONDecoder`, whose answer stands. So
/// it may refuse more than `JSONDecoder`, never less. Every string is checked (escapes, UTF-8) while parsing,
/// read or not (`JSONDecoder` does not check a value its type leaves unread: such a body goes to it, and
/// decodes).
final class JSONTape {
    enum Kind: UInt8 {
        case null, `false`, `true`
        /// An integer literal (no fraction, no exponent) within `Int64`: ``Entry/integer``.
        case integer
        /// Any other number, as written (already checked against JSON's number grammar): bytes `a..<b`.
        case number
        /// A string without escapes: bytes `a..<b` (ASCII, or UTF-8 already validated).
        case string
        /// A string with escapes, resolved while parsing: ``unescaped``[`a`].
        case escapedString
        /// `a` elements; the last ends before entry `b`.
        case array
        /// `a` members, each a key (a ``string``) then a value; the last ends before entry `b`.
        case object
    }

    struct Entry {
        var kind: Kind
        var a: Int32
        var b: Int32
        var integer: Int64 = 0
    }

    /// The body parsed (kept for the strings and numbers read later).
    let body: [UInt8]
    let entries: [Entry]
    let unescaped: [String]

    /// Members up to which an object's keys are searched member by member, by the parser for duplicates and
    /// by the decoder for a key; beyond it, by a hash of the keys (no quadratic cost on a large object).
    static let smallObject = 16

    init(body: [UInt8], entries: [Entry], unescaped: [String]) {
        (self.body, self.entries, self.unescaped) = (body, entries, unescaped)
    }

    /// Parses `body` (UTF-8) as one JSON value, whitespace around it allowed; an empty body as `{}`.
    static func parse(_ body: [UInt8]) throws -> JSONTape {
        if body.isEmpty { return JSONTape(body: [], entries: [Entry(kind: .object, a: 0, b: 1)], unescaped: []) }
        guard body.count < Int32.max else { throw JSONSyntaxError(offset: 0, reason: "body too large") }
        let (entries, unescaped) = try body.withUnsafeBytes { raw in try parsed(raw) }
        return JSONTape(body: body, entries: entries, unescaped: unescaped)
    }

    private static func parsed(_ raw: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> ([Entry], [String]) {
        var parser = JSONParser(bytes: raw)
        try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.at == raw.count else { throw parser.error("unexpected text after the value") }
        return (parser.entries, parser.unescaped)
    }

    /// The entry after value `i` and everything inside it.
    func end(of i: Int) -> Int { Self.end(of: i, in: entries) }

    /// The entry after value `i` of `entries` and everything inside it (the parser's entries so far, or a
    /// tape's): a container's end is recorded once the container is parsed.
    static func end(of i: Int, in entries: [Entry]) -> Int {
        let e = entries[i]
        return e.kind == .array || e.kind == .object ? Int(e.b) : i + 1
    }

    /// Calls `body` with each member's key and value entries of the object at entry `object`, until it
    /// returns `true`.
    func forEachMember(of object: Int, _ body: (_ key: Int, _ value: Int) -> Bool) {
        var i = object + 1
        for _ in 0..<Int(entries[object].a) {
            if body(i, i + 1) { return }
            i = end(of: i + 1)
        }
    }

    /// The string at `i` (a ``Kind/string`` or ``Kind/escapedString``).
    func string(at i: Int) -> String {
        let e = entries[i]
        if e.kind == .escapedString { return unescaped[Int(e.a)] }
        return body.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[Int(e.a)..<Int(e.b)]), as: UTF8.self) }
    }

    /// The text of the number at `i` (a ``Kind/number``).
    func numberText(at i: Int) -> String { string(at: i) }

    /// Whether the key at `i` (a ``Kind/string`` of ASCII bytes) is `name`.
    func key(at i: Int, is name: UnsafeBufferPointer<UInt8>) -> Bool {
        let e = entries[i]
        let count = Int(e.b - e.a)
        guard count == name.count else { return false }
        return body.withUnsafeBufferPointer { b in
            count == 0 || memcmp(b.baseAddress! + Int(e.a), name.baseAddress!, count) == 0
        }
    }

    /// How `JSONDecoder`'s type mismatch messages name the value at `i` ("a string", "null", ...).
    func kindName(at i: Int) -> String {
        switch entries[i].kind {
        case .null: "null"
        case .false, .true: "a bool"
        case .integer, .number: "a number"
        case .string, .escapedString: "a string"
        case .array: "an array"
        case .object: "a dictionary"
        }
    }
}

/// Where and why ``JSONTape/parse(_:)`` refused a body.
struct JSONSyntaxError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String
    var description: String { "\(reason) at byte \(offset)" }
}
