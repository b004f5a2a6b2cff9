import Foundation

/// A type ``NodeDecoder`` reads straight from a node, as `JSONDecoder` does: numbers must fit exactly,
/// nothing is converted between kinds (a string is never a number, a number never a bool).
protocol JSONScalar {
    /// The value of `node`; `path` (made only when there is an error) says where it is.
    static func read(_ node: JSONNode, at path: @autoclosure () -> CodingPathNode?) throws -> Self
}

extension Bool: JSONScalar {
    static func read(_ node: JSONNode, at path: @autoclosure () -> CodingPathNode?) throws -> Bool {
        guard case .bool(let b) = node else { throw NodeDecoder.mismatch(Bool.self, node, path()) }
        return b
    }
}

extension String: JSONScalar {
    static func read(_ node: JSONNode, at path: @autoclosure () -> CodingPathNode?) throws -> String {
        guard case .string(let s) = node else { throw NodeDecoder.mismatch(String.self, node, path()) }
        return s
    }
}

/// Floating-point numbers from their text (correctly rounded, as `JSONDecoder` reads them); an integer
/// literal converts exactly or is refused.
protocol JSONFloat: JSONScalar, BinaryFloatingPoint, LosslessStringConvertible {}

extension JSONFloat {
    static func read(_ node: JSONNode, at path: @autoclosure () -> CodingPathNode?) throws -> Self {
        let text: String
        switch node {
        case .integer(let n):
            if let v = Self(exactly: n) { return v }
            text = String(n)  // rounded from its text, as JSONDecoder does
        case .number(let s): text = s
        default: throw NodeDecoder.mismatch(Self.self, node, path())
        }
        guard let v = Self(text), v.isFinite else {
            throw NodeDecoder.corrupted(path(), "Parsed JSON number <\(text)> does not fit in \(Self.self).")
        }
        return v
    }
}

extension Double: JSONFloat {}
extension Float: JSONFloat {}

/// Integers: an integer literal that fits; anything else (a fraction, an exponent, too large) is refused,
/// and ``JSONArguments`` leaves the body to `JSONDecoder`, which has its own rules for those.
protocol JSONInteger: JSONScalar, FixedWidthInteger {}

extension JSONInteger {
    static func read(_ node: JSONNode, at path: @autoclosure () -> CodingPathNode?) throws -> Self {
        switch node {
        case .integer(let n):
            guard let v = Self(exactly: n) else { throw NodeDecoder.corrupted(path(), "Parsed JSON number <\(n)> does not fit in \(Self.self).") }
            return v
        case .number(let s):
            guard let v = Self(s) else { throw NodeDecoder.corrupted(path(), "Parsed JSON number <\(s)> does not fit in \(Self.self).") }
            return v
        default:
            throw NodeDecoder.mismatch(Self.self, node, path())
        }
    }
}

extension Int: JSONInteger {}
extension Int8: JSONInteger {}
extension Int16: JSONInteger {}
extension Int32: JSONInteger {}
extension Int64: JSONInteger {}
extension UInt: JSONInteger {}
extension UInt8: JSONInteger {}
extension UInt16: JSONInteger {}
extension UInt32: JSONInteger {}
extension UInt64: JSONInteger {}
