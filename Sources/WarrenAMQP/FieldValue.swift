/// An AMQP 0-9-1 table: header and argument maps, as RabbitMQ reads them.
public typealias FieldTable = [String: FieldValue]

/// One value of an AMQP field table or field array, covering every field kind RabbitMQ understands.
///
/// The wire tags follow RabbitMQ's (and Qpid's) reading of AMQP 0-9-1, which is also librabbitmq-c's:
/// `t b B s u I i l f d D S A T F V x`.
public enum FieldValue: Sendable, Hashable {
    /// `V`: no value.
    case void
    /// `t`: a boolean.
    case bool(Bool)
    /// `b`: signed 8-bit integer.
    case int8(Int8)
    /// `B`: unsigned 8-bit integer.
    case uint8(UInt8)
    /// `s`: signed 16-bit integer.
    case int16(Int16)
    /// `u`: unsigned 16-bit integer.
    case uint16(UInt16)
    /// `I`: signed 32-bit integer.
    case int32(Int32)
    /// `i`: unsigned 32-bit integer.
    case uint32(UInt32)
    /// `l`: signed 64-bit integer.
    case int64(Int64)
    /// `f`: 32-bit float.
    case float(Float)
    /// `d`: 64-bit float.
    case double(Double)
    /// `D`: decimal, `value * 10^-scale`.
    case decimal(scale: UInt8, value: UInt32)
    /// `S`: long string (UTF-8).
    case string(String)
    /// `x`: byte array.
    case bytes([UInt8])
    /// `T`: timestamp, seconds since the Unix epoch.
    case timestamp(UInt64)
    /// `A`: nested array.
    case array([FieldValue])
    /// `F`: nested table.
    case table(FieldTable)
}

extension FieldValue {
    /// The value as a signed integer when it is any integer kind that fits, else `nil`.
    public var intValue: Int? {
        switch self {
        case .int8(let v): return Int(v)
        case .uint8(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int64(let v): return Int(exactly: v)
        case .timestamp(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// The value as a string when it is a long string, or a byte array holding valid UTF-8.
    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .bytes(let b): return String(validating: b, as: UTF8.self)
        default: return nil
        }
    }

    /// The nested table, when this is one.
    public var tableValue: FieldTable? {
        if case .table(let t) = self { return t }
        return nil
    }

    /// The nested array, when this is one.
    public var arrayValue: [FieldValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

extension FieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral
{
    /// A long string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A signed 64-bit integer.
    public init(integerLiteral value: Int64) { self = .int64(value) }
    /// A boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A 64-bit float.
    public init(floatLiteral value: Double) { self = .double(value) }
}
