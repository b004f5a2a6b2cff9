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

    /// Members up to which an object's keys are searched member by member, by the parser for duplicates and
    /// by the decoder for a key; beyond it, by a hash of the keys (no quadratic cost on a large object).
    static let smallObject = 16

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
