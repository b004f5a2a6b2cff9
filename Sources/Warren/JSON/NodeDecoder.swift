import Foundation

/// A `Decoder` over a parsed ``JSONNode``, reading as Foundation's `JSONDecoder` with its default strategies
/// does (dates as `deferredToDate`, `Data` as Base64, keys as they are), and throwing the same kinds of
/// `DecodingError` with the same coding paths.
///
/// It exists for speed: a job's arguments are decoded once per job, and `JSONDecoder` cost about a sixth of
/// a worker's CPU on short jobs (`warren-bench decode` compares the two). ``JSONArguments`` uses it first and
/// gives any body it throws on to `JSONDecoder`, so errors read exactly as before.
struct NodeDecoder: Decoder {
    let node: JSONNode
    let path: CodingPathNode?

    var codingPath: [any CodingKey] { path?.keys ?? [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Decodes `T` from `node`, `path` naming where it is (`nil`: the top).
    static func decode<T: Decodable>(_ type: T.Type, from node: JSONNode, at path: CodingPathNode?) throws -> T {
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            return try special(type, node, path)
        }
        return try T(from: NodeDecoder(node: node, path: path))
    }

    /// The types `JSONDecoder` reads its own way rather than through their `init(from:)`.
    private static func special<T>(_ type: T.Type, _ node: JSONNode, _ path: CodingPathNode?) throws -> T {
        switch (type, node) {
        case (is Data.Type, .string(let s)):
            guard let data = Data(base64Encoded: s) else { throw corrupted(path, "Encountered Data is not valid Base64.") }
            return data as! T
        case (is URL.Type, .string(let s)):
            guard let url = URL(string: s) else { throw corrupted(path, "Invalid URL string.") }
            return url as! T
        case (is Decimal.Type, .integer(let n)):
            return Decimal(n) as! T
        case (is Decimal.Type, .number(let s)):
            guard let d = Decimal(string: s, locale: Locale(identifier: "en_US_POSIX")) else { throw corrupted(path, "Invalid Decimal \(s).") }
            return d as! T
        default:
            throw mismatch(type, node, path)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = node else { throw Self.mismatch([String: Any].self, node, path) }
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(members: members, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node else { throw Self.mismatch([Any].self, node, path) }
        return UnkeyedNodeContainer(elements: elements, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleNodeContainer(node: node, path: path) }

    static func mismatch(_ type: Any.Type, _ node: JSONNode, _ path: CodingPathNode?) -> DecodingError {
        if case .null = node {
            return .valueNotFound(type, .init(codingPath: path?.keys ?? [], debugDescription: "Cannot get value of type \(type) -- found null value instead"))
        }
        return .typeMismatch(type, .init(codingPath: path?.keys ?? [], debugDescription: "Expected to decode \(type) but found \(node.kind) instead."))
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
    let members: [(key: String, value: JSONNode)]
    let path: CodingPathNode?
    /// Member positions by key, for an object too large to search member by member (a dictionary of
    /// thousands of entries is read key by key: a search each would be quadratic).
    private let index: [String: Int]?

    init(members: [(key: String, value: JSONNode)], path: CodingPathNode?) {
        (self.members, self.path) = (members, path)
        index = members.count > JSONNode.smallObject ? Dictionary(members.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { $1 }) : nil
    }

    var codingPath: [any CodingKey] { path?.keys ?? [] }
    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { find(key) != nil }

    private func find(_ key: Key) -> JSONNode? {
        let name = key.stringValue
        if let index { return index[name].map { members[$0].value } }
        for m in members where m.key == name { return m.value }
        return nil
    }

    private func value(_ key: Key) throws -> JSONNode {
        guard let v = find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath,
                                                       debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return v
    }

    private func scalar<T: JSONScalar>(_ key: Key) throws -> T {
        try T.read(try value(key), at: CodingPathNode(key, parent: path))  // the path is made only for an error
    }

    func decodeNil(forKey key: Key) throws -> Bool { if case .null = try value(key) { true } else { false } }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        // The common case without building a path.
        if case .string(let s) = try value(key) { return s }
        return try scalar(key)
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try scalar(key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        if case .integer(let n) = try value(key) { return Int(n) }
        return try scalar(key)
    }
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
        try NodeDecoder.decode(type, from: try value(key), at: CodingPathNode(key, parent: path))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(node: try value(key), path: CodingPathNode(key, parent: path)).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(node: try value(key), path: CodingPathNode(key, parent: path)).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder {
        let key = PathKey(stringValue: "super", intValue: nil)
        return NodeDecoder(node: members.last { $0.key == "super" }?.value ?? .null, path: CodingPathNode(key, parent: path))
    }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        NodeDecoder(node: find(key) ?? .null, path: CodingPathNode(key, parent: path))
    }
}
