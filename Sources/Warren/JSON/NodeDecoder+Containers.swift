/// A single value: the value itself.
struct SingleNodeContainer: SingleValueDecodingContainer {
    let tape: JSONTape
    let index: Int
    let path: CodingPathNode?

    var codingPath: [any CodingKey] { path?.keys ?? [] }

    func decodeNil() -> Bool { tape.entries[index].kind == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try .read(tape, index, at: path) }
    func decode(_ type: String.Type) throws -> String { try .read(tape, index, at: path) }
    func decode(_ type: Double.Type) throws -> Double { try .read(tape, index, at: path) }
    func decode(_ type: Float.Type) throws -> Float { try .read(tape, index, at: path) }
    func decode(_ type: Int.Type) throws -> Int { try .read(tape, index, at: path) }
    func decode(_ type: Int8.Type) throws -> Int8 { try .read(tape, index, at: path) }
    func decode(_ type: Int16.Type) throws -> Int16 { try .read(tape, index, at: path) }
    func decode(_ type: Int32.Type) throws -> Int32 { try .read(tape, index, at: path) }
    func decode(_ type: Int64.Type) throws -> Int64 { try .read(tape, index, at: path) }
    func decode(_ type: UInt.Type) throws -> UInt { try .read(tape, index, at: path) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try .read(tape, index, at: path) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try .read(tape, index, at: path) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try .read(tape, index, at: path) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try .read(tape, index, at: path) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try NodeDecoder.decode(type, from: tape, index, at: path) }
}

/// An array's elements, read in order.
struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let tape: JSONTape
    let path: CodingPathNode?
    let count: Int?
    private(set) var currentIndex = 0
    /// The entry of element ``currentIndex``.
    private var position: Int

    init(tape: JSONTape, array: Int, path: CodingPathNode?) {
        (self.tape, self.path) = (tape, path)
        count = Int(tape.entries[array].a)
        position = array + 1
    }

    var codingPath: [any CodingKey] { path?.keys ?? [] }
    var isAtEnd: Bool { currentIndex >= count! }

    private func indexPath() -> CodingPathNode { CodingPathNode(PathKey(intValue: currentIndex)!, parent: path) }

    /// The next element's entry, not yet consumed.
    private func peek(_ type: Any.Type) throws -> Int {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: indexPath().keys, debugDescription: "Unkeyed container is at end."))
        }
        return position
    }

    /// Moves past the element at `position`.
    private mutating func advance() {
        position = tape.end(of: position)
        currentIndex += 1
    }

    private mutating func next<T: JSONScalar>() throws -> T {
        let v = try T.read(tape, try peek(T.self), at: indexPath())
        advance()
        return v
    }

    mutating func decodeNil() throws -> Bool {
        guard tape.entries[try peek(Never.self)].kind == .null else { return false }
        advance()
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
        let i = try peek(T.self)
        // A string element needs no decoder of its own (arrays of strings are common in arguments).
        if T.self == String.self, let s: String = try? .read(tape, i, at: nil) { advance(); return s as! T }
        let v = try NodeDecoder.decode(type, from: tape, i, at: indexPath())
        advance()
        return v
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let c = try NodeDecoder(tape: tape, index: try peek([String: Any].self), path: indexPath()).container(keyedBy: type)
        advance()
        return c
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let c = try NodeDecoder(tape: tape, index: try peek([Any].self), path: indexPath()).unkeyedContainer()
        advance()
        return c
    }
    mutating func superDecoder() throws -> any Decoder {
        let d = NodeDecoder(tape: tape, index: try peek(Any.self), path: indexPath())
        advance()
        return d
    }
}
