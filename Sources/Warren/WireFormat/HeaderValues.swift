import Foundation
import WarrenAMQP

/// Lenient readers for header values written by producers in other languages: integers of any width,
/// or decimal strings (shell tools can only send strings); times as ms integers, AMQP timestamps (s),
/// or ISO-8601 strings.
enum HeaderValues {
    static func int(_ value: FieldValue?) -> Int? {
        guard let value else { return nil }
        if let i = value.intValue { return i }
        if case .double(let d) = value, d.rounded() == d { return Int(exactly: d) }
        if let s = value.stringValue { return Int(s.trimmingCharacters(in: .whitespaces)) }
        return nil
    }

    static func date(_ value: FieldValue?) -> Date? {
        guard let value else { return nil }
        if case .timestamp(let seconds) = value { return Date(timeIntervalSince1970: Double(seconds)) }
        if let ms = int(value) { return Date(millisecondsSince1970: ms) }
        if case .double(let ms) = value { return Date(timeIntervalSince1970: ms / 1000) }
        if let s = value.stringValue {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if let d = f.date(from: s) { return d }
            f.formatOptions = [.withInternetDateTime]
            return f.date(from: s)
        }
        return nil
    }

    static func string(_ value: FieldValue?) -> String? { value?.stringValue }

    /// An ISO-8601 time as Python's `isoformat()` and Ruby's `iso8601(n)` write it: any number of fraction
    /// digits (read to the millisecond), `Z`, an offset, or no zone (read as UTC); a space may stand for `T`.
    static func lenientISODate(_ text: String) -> Date? {
        date(.string(isoForFoundation(text)))
    }

    /// Rewrites such text for Foundation: milliseconds at most, and `Z` when there is no offset.
    static func isoForFoundation(_ text: String) -> String {
        var s = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "T")
        guard let t = s.firstIndex(of: "T") else { return s }
        var zone = ""
        if s.hasSuffix("Z") || s.hasSuffix("z") {
            s.removeLast()
            zone = "Z"
        } else if let sign = s[t...].lastIndex(where: { $0 == "+" || $0 == "-" }) {
            zone = String(s[sign...])
            s = String(s[..<sign])
        }
        if let dot = s.lastIndex(of: ".") {
            let digits = s[s.index(after: dot)...].prefix(3)
            s = String(s[..<dot]) + "." + digits.padding(toLength: 3, withPad: "0", startingAt: 0)
        }
        return s + (zone.isEmpty ? "Z" : zone)
    }
}

extension Date {
    /// Milliseconds since the Unix epoch, as Warren headers carry times.
    public var millisecondsSince1970: Int { Int((timeIntervalSince1970 * 1000).rounded()) }

    /// A date from milliseconds since the Unix epoch.
    public init(millisecondsSince1970 ms: Int) { self.init(timeIntervalSince1970: Double(ms) / 1000) }
}

extension FieldValue {
    /// A time as Warren writes it: `int64` milliseconds since the epoch.
    static func milliseconds(_ date: Date) -> FieldValue { .int64(Int64(date.millisecondsSince1970)) }
}
