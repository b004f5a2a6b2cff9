import Foundation

/// A `Decoder` over a value of a parsed ``JSONTape``, reading as Foundation's `JSONDecoder` with its default
/// strategies does (dates as `deferredToDate`, `Data` as Base64, keys as they are), and throwing the same
/// kinds of `DecodingError` with the same coding paths.
///
/// It exists for speed: a job's arguments are decoded once per job, and `JSONDecoder` cost about a sixth of
/// a worker's CPU on short jobs (`warren-bench decode` compares the two). ``JSONArguments`` uses it first and
/// gives any body it throws on to `JSONDecoder`, so errors read exactly as before.
struct NodeDecoder: Decoder {
    let tape: JSONTape
    /// The value's entry in ``tape``.
    let index: Int
    let path: CodingPathNode?

    var codingPath: [any CodingKey] { path?.keys ?? [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Decodes `T` from the value at `index`, `path` naming where it is (`nil`: the top).
    static func decode<T: Decodable>(_ type: T.Type, from tape: JSONTape, _ index: Int, at path: CodingPathNode?) throws -> T {
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            return try special(type, tape, index, path)
        }
        return try T(from: NodeDecoder(tape: tape, index: index, path: path))
    }

    /// The types `JSONDecoder` reads its own way rather than through their `init(from:)`.
    private static func special<T>(_ type: T.Type, _ tape: JSONTape, _ i: Int, _ path: CodingPathNode?) throws -> T {
        switch (type, tape.entries[i].kind) {
        case (is Data.Type, .string), (is Data.Type, .escapedString):
            guard let data = Data(base64Encoded: tape.string(at: i)) else { throw corrupted(path, "Encountered Data is not valid Base64.") }
            return data as! T
        case (is URL.Type, .string), (is URL.Type, .escapedString):
            guard let url = URL(string: tape.string(at: i)) else { throw corrupted(path, "Invalid URL string.") }
            return url as! T
        case (is Decimal.Type, .integer):
            return Decimal(tape.entries[i].integer) as! T
        case (is Decimal.Type, .number):
            let s = tape.numberText(at: i)
            guard let d = Decimal(string: s, locale: Locale(identifier: "en_US_POSIX")) else { throw corrupted(path, "Invalid Decimal \(s).") }
            return d as! T
        default:
            throw mismatch(type, tape, i, path)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard tape.entries[index].kind == .object else { throw Self.mismatch([String: Any].self, tape, index, path) }
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(tape: tape, object: index, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard tape.entries[index].kind == .array else { throw Self.mismatch([Any].self, tape, index, path) }
        return UnkeyedNodeContainer(tape: tape, array: index, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleNodeContainer(tape: tape, index: index, path: path) }

    static func mismatch(_ type: Any.Type, _ tape: JSONTape, _ i: Int, _ path: CodingPathNode?) -> DecodingError {
        if tape.entries[i].kind == .null {
            return .valueNotFound(type, .init(codingPath: path?.keys ?? [], debugDescription: "Cannot get value of type \(type) -- found null value instead"))
        }
        return .typeMismatch(type, .init(codingPath: path?.keys ?? [], debugDescription: "Expected to decode \(type) but found \(tape.kindName(at: i)) instead."))
    }

    static func corrupted(_ path: CodingPathNode?, _ text: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: path?.keys ?? [], debugDescription: text))
    }
}

/// A coding path as a chain from the innermost key outwards, made only for values that are not scalars
/// (a scalar's path is built when an error needs it).
final class CodingPathNode: Sendable {
    let parent: CodingPathNode?
    let stringValue: String
    let intValue: Int?

    init(_ key: any CodingKey, parent: CodingPathNode?) {
        (self.parent, stringValue, intValue) = (parent, key.stringValue, key.intValue)
    }

    var keys: [any CodingKey] {
        var out: [any CodingKey] = []
        var n: CodingPathNode? = self
        while let node = n {
            out.append(PathKey(stringValue: node.stringValue, intValue: node.intValue))
            n = node.parent
        }
        return out.reversed()
    }
}

/// A key of a coding path as recorded (a member name or an array index).
struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String, intValue: Int?) { (self.stringValue, self.intValue) = (stringValue, intValue) }
    init?(stringValue: String) { (self.stringValue, intValue) = (stringValue, nil) }
    init?(intValue: Int) { (stringValue, self.intValue) = ("Index \(intValue)", intValue) }
}

/// An object's members, read by key.
struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let tape: JSONTape
    /// The object's entry.
    let object: Int
    let path: CodingPathNode?
    /// Value entries by key, for an object too large to search member by member (a dictionary of
    /// thousands of entries is read key by key: a search each would be quadratic).
    private let index: [String: Int]?

    init(tape: JSONTape, object: Int, path: CodingPathNode?) {
        (self.tape, self.object, self.path) = (tape, object, path)
        let count = Int(tape.entries[object].a)
        if count > JSONTape.smallObject {
            var index: [String: Int] = [:]
            index.reserveCapacity(count)
            tape.forEachMember(of: object) { key, value in index[tape.string(at: key)] = value; return false }
            self.index = index
        } else {
            index = nil
        }
    }

    var codingPath: [any CodingKey] { path?.keys ?? [] }
    var allKeys: [Key] {
        var keys: [Key] = []
        tape.forEachMember(of: object) { key, _ in
            if let k = Key(stringValue: tape.string(at: key)) { keys.append(k) }
            return false
        }
        return keys
    }

    func contains(_ key: Key) -> Bool { find(key) != nil }

    /// The entry of `key`'s value.
    private func find(_ key: Key) -> Int? { find(named: key.stringValue) }

    private func find(named name: String) -> Int? {
        var name = name
        if let index { return index[name] }
        return name.withUTF8 { bytes in
            var found: Int?
            tape.forEachMember(of: object) { k, v in
                if tape.key(at: k, is: bytes) { found = v; return true }
                return false
            }
            return found
        }
    }

    private func value(_ key: Key) throws -> Int {
        guard let v = find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath,
                                                       debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return v
    }

    private func scalar<T: JSONScalar>(_ key: Key) throws -> T {
        try T.read(tape, try value(key), at: CodingPathNode(key, parent: path))  // the path is made only for an error
    }

    func decodeNil(forKey key: Key) throws -> Bool { tape.entries[try value(key)].kind == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try scalar(key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try scalar(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try scalar(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try scalar(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try scalar(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try scalar(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try scalar(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try scalar(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try scalar(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try scalar(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try scalar(key) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try NodeDecoder.decode(type, from: tape, try value(key), at: CodingPathNode(key, parent: path))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(tape: tape, index: try value(key), path: CodingPathNode(key, parent: path)).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(tape: tape, index: try value(key), path: CodingPathNode(key, parent: path)).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder {
        superDecoder(named: "super", key: PathKey(stringValue: "super", intValue: nil))
    }
    func superDecoder(forKey key: Key) throws -> any Decoder { superDecoder(named: key.stringValue, key: key) }

    /// A decoder over member `name`, or over `null` when there is none (as `JSONDecoder` gives).
    private func superDecoder(named name: String, key: any CodingKey) -> any Decoder {
        let node = CodingPathNode(key, parent: path)
        if let v = find(named: name) { return NodeDecoder(tape: tape, index: v, path: node) }
        return NodeDecoder(tape: JSONTape(body: [], entries: [.init(kind: .null, a: 0, b: 0)], unescaped: []), index: 0, path: node)
    }
}
