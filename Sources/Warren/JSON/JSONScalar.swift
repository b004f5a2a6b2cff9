import Foundation

/// A type ``NodeDecoder`` reads straight from a tape's value, as `JSONDecoder` does: numbers must fit
/// exactly, nothing is converted between kinds (a string is never a number, a number never a bool).
protocol JSONScalar {
    /// The value at entry `i` of `tape`; `path` (made only when there is an error) says where it is.
    static func read(_ tape: JSONTape, _ i: Int, at path: @autoclosure () -> CodingPathNode?) throws -> Self
}

extension Bool: JSONScalar {
    static func read(_ tape: JSONTape, _ i: Int, at path: @autoclosure () -> CodingPathNode?) throws -> Bool {
        switch tape.entries[i].kind {
        case .true: true
        case .false: false
        default: throw NodeDecoder.mismatch(Bool.self, tape, i, path())
        }
    }
}

extension String: JSONScalar {
    static func read(_ tape: JSONTape, _ i: Int, at path: @autoclosure () -> CodingPathNode?) throws -> String {
        let kind = tape.entries[i].kind
        guard kind == .string || kind == .escapedString else { throw NodeDecoder.mismatch(String.self, tape, i, path()) }
        return tape.string(at: i)
    }
}

/// Floating-point numbers from their text (correctly rounded, as `JSONDecoder` reads them); an integer
/// literal converts exactly or is refused.
protocol JSONFloat: JSONScalar, BinaryFloatingPoint, LosslessStringConvertible {}

extension JSONFloat {
    static func read(_ tape: JSONTape, _ i: Int, at path: @autoclosure () -> CodingPathNode?) throws -> Self {
        let text: String
        switch tape.entries[i].kind {
        case .integer:
            let n = tape.entries[i].integer
            if let v = Self(exactly: n) { return v }
            text = String(n)  // rounded from its text, as JSONDecoder does
        case .number: text = tape.numberText(at: i)
        default: throw NodeDecoder.mismatch(Self.self, tape, i, path())
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
    static func read(_ tape: JSONTape, _ i: Int, at path: @autoclosure () -> CodingPathNode?) throws -> Self {
        switch tape.entries[i].kind {
        case .integer:
            let n = tape.entries[i].integer
            guard let v = Self(exactly: n) else { throw NodeDecoder.corrupted(path(), "Parsed JSON number <\(n)> does not fit in \(Self.self).") }
            return v
        case .number:
            let s = tape.numberText(at: i)
            guard let v = Self(s) else { throw NodeDecoder.corrupted(path(), "Parsed JSON number <\(s)> does not fit in \(Self.self).") }
            return v
        default:
            throw NodeDecoder.mismatch(Self.self, tape, i, path())
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
