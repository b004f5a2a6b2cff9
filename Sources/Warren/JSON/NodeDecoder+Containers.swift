/// A single value: the node itself.
struct SingleNodeContainer: SingleValueDecodingContainer {
    let node: JSONNode
    let path: CodingPathNode?

    var codingPath: [any CodingKey] { path?.keys ?? [] }

    func decodeNil() -> Bool { if case .null = node { true } else { false } }
    func decode(_ type: Bool.Type) throws -> Bool { try .read(node, at: path) }
    func decode(_ type: String.Type) throws -> String { try .read(node, at: path) }
    func decode(_ type: Double.Type) throws -> Double { try .read(node, at: path) }
    func decode(_ type: Float.Type) throws -> Float { try .read(node, at: path) }
    func decode(_ type: Int.Type) throws -> Int { try .read(node, at: path) }
    func decode(_ type: Int8.Type) throws -> Int8 { try .read(node, at: path) }
    func decode(_ type: Int16.Type) throws -> Int16 { try .read(node, at: path) }
    func decode(_ type: Int32.Type) throws -> Int32 { try .read(node, at: path) }
    func decode(_ type: Int64.Type) throws -> Int64 { try .read(node, at: path) }
    func decode(_ type: UInt.Type) throws -> UInt { try .read(node, at: path) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try .read(node, at: path) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try .read(node, at: path) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try .read(node, at: path) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try .read(node, at: path) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try NodeDecoder.decode(type, from: node, at: path) }
}

/// An array's elements, read in order.
struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let elements: [JSONNode]
    let path: CodingPathNode?
    private(set) var currentIndex = 0

    init(elements: [JSONNode], path: CodingPathNode?) { (self.elements, self.path) = (elements, path) }

    var codingPath: [any CodingKey] { path?.keys ?? [] }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private func indexPath() -> CodingPathNode { CodingPathNode(PathKey(intValue: currentIndex)!, parent: path) }

    /// The next element, not yet consumed.
    private func peek(_ type: Any.Type) throws -> JSONNode {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: indexPath().keys, debugDescription: "Unkeyed container is at end."))
        }
        return elements[currentIndex]
    }

    private mutating func next<T: JSONScalar>() throws -> T {
        let v = try T.read(try peek(T.self), at: indexPath())
        currentIndex += 1
        return v
    }

    mutating func decodeNil() throws -> Bool {
        guard case .null = try peek(Never.self) else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next() }
    mutating func decode(_ type: String.Type) throws -> String { try next() }
    mutating func decode(_ type: Double.Type) throws -> Double { try next() }
    mutating func decode(_ type: Float.Type) throws -> Float { try next() }
    mutating func decode(_ type: Int.Type) throws -> Int { try next() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next() }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let node = try peek(T.self)
        // A string element needs no decoder of its own (arrays of strings are common in arguments).
        if T.self == String.self, case .string(let s) = node { currentIndex += 1; return s as! T }
        let v = try NodeDecoder.decode(type, from: node, at: indexPath())
        currentIndex += 1
        return v
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let c = try NodeDecoder(node: try peek([String: Any].self), path: indexPath()).container(keyedBy: type)
        currentIndex += 1
        return c
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let c = try NodeDecoder(node: try peek([Any].self), path: indexPath()).unkeyedContainer()
        currentIndex += 1
        return c
    }
    mutating func superDecoder() throws -> any Decoder {
        let d = NodeDecoder(node: try peek(Any.self), path: indexPath())
        currentIndex += 1
        return d
    }
}
