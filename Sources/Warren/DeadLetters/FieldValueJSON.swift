import Foundation
import WarrenAMQP

/// A lossless JSON form of an AMQP field value: `{"type": KIND, "value": ...}`, one kind per
/// ``FieldValue`` case, so that every header survives export and import with its exact AMQP type.
///
/// | kind | value |
/// |---|---|
/// | `void` | absent |
/// | `bool` | `true`/`false` |
/// | `int8` `uint8` `int16` `uint16` `int32` `uint32` `int64` `timestamp` | integer |
/// | `float` `double` | `bits`: the IEEE-754 bit pattern in hex (exact, NaN and -0 included); `value`: the number, for people |
/// | `decimal` | `scale` and `value` (integers) |
/// | `string` | string |
/// | `bytes` | base64 |
/// | `array` | array of typed values |
/// | `table` | object of typed values |
public struct JSONFieldValue: Codable, Sendable, Hashable {
    /// The value.
    public var value: FieldValue

    /// Wraps a value.
    public init(_ value: FieldValue) { self.value = value }

    private enum Keys: String, CodingKey { case type, value, bits, scale }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        func put(_ type: String, _ v: some Encodable) throws {
            try c.encode(type, forKey: .type)
            try c.encode(v, forKey: .value)
        }
        switch value {
        case .void: try c.encode("void", forKey: .type)
        case .bool(let v): try put("bool", v)
        case .int8(let v): try put("int8", v)
        case .uint8(let v): try put("uint8", v)
        case .int16(let v): try put("int16", v)
        case .uint16(let v): try put("uint16", v)
        case .int32(let v): try put("int32", v)
        case .uint32(let v): try put("uint32", v)
        case .int64(let v): try put("int64", v)
        case .timestamp(let v): try put("timestamp", v)
        case .float(let v):
            try c.encode("float", forKey: .type)
            try c.encode(String(v.bitPattern, radix: 16), forKey: .bits)
            if v.isFinite { try c.encode(v, forKey: .value) }
        case .double(let v):
            try c.encode("double", forKey: .type)
            try c.encode(String(v.bitPattern, radix: 16), forKey: .bits)
            if v.isFinite { try c.encode(v, forKey: .value) }
        case .decimal(let scale, let v):
            try put("decimal", v)
            try c.encode(scale, forKey: .scale)
        case .string(let v): try put("string", v)
        case .bytes(let v): try put("bytes", Data(v).base64EncodedString())
        case .array(let v): try put("array", v.map(JSONFieldValue.init))
        case .table(let v): try put("table", v.mapValues(JSONFieldValue.init))
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let type = try c.decode(String.self, forKey: .type)
        func get<T: Decodable>(_: T.Type) throws -> T { try c.decode(T.self, forKey: .value) }
        func bits(_ width: Int) throws -> UInt64 {
            let text = try c.decode(String.self, forKey: .bits)
            guard let b = UInt64(text, radix: 16), width == 64 || b <= UInt64(UInt32.max) else {
                throw DecodingError.dataCorruptedError(forKey: .bits, in: c, debugDescription: "bad bit pattern '\(text)'")
            }
            return b
        }
        switch type {
        case "void": value = .void
        case "bool": value = .bool(try get(Bool.self))
        case "int8": value = .int8(try get(Int8.self))
        case "uint8": value = .uint8(try get(UInt8.self))
        case "int16": value = .int16(try get(Int16.self))
        case "uint16": value = .uint16(try get(UInt16.self))
        case "int32": value = .int32(try get(Int32.self))
        case "uint32": value = .uint32(try get(UInt32.self))
        case "int64": value = .int64(try get(Int64.self))
        case "timestamp": value = .timestamp(try get(UInt64.self))
        case "float": value = .float(Float(bitPattern: UInt32(try bits(32))))
        case "double": value = .double(Double(bitPattern: try bits(64)))
        case "decimal": value = .decimal(scale: try c.decode(UInt8.self, forKey: .scale), value: try get(UInt32.self))
        case "string": value = .string(try get(String.self))
        case "bytes":
            guard let data = Data(base64Encoded: try get(String.self)) else {
                throw DecodingError.dataCorruptedError(forKey: .value, in: c, debugDescription: "bytes are not base64")
            }
            value = .bytes(Array(data))
        case "array": value = .array(try get([JSONFieldValue].self).map(\.value))
        case "table": value = .table(try get([String: JSONFieldValue].self).mapValues(\.value))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown field kind '\(type)'")
        }
    }
}
