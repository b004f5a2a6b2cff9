import Foundation

/// Values ActiveJob wrote through its object serializers, `{"_aj_serialized": "ActiveJob::Serializers::…", "value": …}`,
/// read as the JSON value a Swift job receives:
///
/// | Ruby value (serializer) | the Swift job gets |
/// |---|---|
/// | Symbol (`SymbolSerializer`) | its name, a string: `:low` → `"low"` |
/// | Module or Class (`ModuleSerializer`) | its name, a string: `"Billing::Invoice"` |
/// | Time, ActiveSupport::TimeWithZone, DateTime (`TimeSerializer`, `TimeWithZoneSerializer`, `DateTimeSerializer`) | the ISO-8601 text Rails wrote, offset and digits kept: `"2024-06-01T12:00:00.000000000+02:00"` (``ActiveJobFormat/time(_:)`` reads it) |
/// | Date (`DateSerializer`) | `"2024-02-29"` |
/// | ActiveSupport::Duration (`DurationSerializer`) | its length in seconds, a number: `90.minutes` → `5400` |
/// | BigDecimal (`BigDecimalSerializer`, Rails 7.1+) | its exact digits as a string, as Rails 6.1 sends a BigDecimal: `"12.345"` |
///
/// Any other serializer (Range, or an application's own `ActiveJob::Serializers::ObjectSerializer`) holds a
/// value only Ruby can rebuild: it throws with reason `unsupported`.
enum ActiveJobSerializers {
    /// The namespace of Rails' own serializers.
    static let railsPrefix = "ActiveJob::Serializers::"

    static func read(_ hash: [String: Any], path: String, job: String) throws(JobDecodingError) -> Any {
        guard let name = hash[ActiveJobArguments.Key.serialized] as? String, !name.isEmpty else {
            throw ActiveJobArguments.invalid(job, path, "has a malformed '_aj_serialized' (expected a serializer class name): \(ActiveJobArguments.describe(hash))")
        }
        let builtIn = name.hasPrefix(railsPrefix) ? String(name.dropFirst(railsPrefix.count)) : nil
        func text(_ what: String) throws(JobDecodingError) -> String {
            guard let value = hash["value"] as? String else {
                throw ActiveJobArguments.invalid(job, path, "is a \(what) (\(name)) without a string 'value': \(ActiveJobArguments.describe(hash))")
            }
            return value
        }
        switch builtIn {
        case "SymbolSerializer":
            return try text("Symbol")
        case "ModuleSerializer":
            return try text("Module")
        case "TimeSerializer", "TimeWithZoneSerializer", "DateTimeSerializer":
            let value = try text("time")
            guard HeaderValues.lenientISODate(value) != nil else {
                throw ActiveJobArguments.invalid(job, path, "is a time (\(name)) whose value is not ISO-8601: \(value)")
            }
            return value
        case "DateSerializer":
            let value = try text("Date")
            guard isCalendarDate(value) else {
                throw ActiveJobArguments.invalid(job, path, "is a Date (\(name)) whose value is not YYYY-MM-DD: \(value)")
            }
            return value
        case "DurationSerializer":
            guard let seconds = hash["value"] as? NSNumber, !seconds.isBoolean else {
                throw ActiveJobArguments.invalid(job, path, "is a Duration (\(name)) without a number of seconds in 'value': \(ActiveJobArguments.describe(hash))")
            }
            return seconds
        case "BigDecimalSerializer":
            let value = try text("BigDecimal")
            guard let plain = plainDecimal(value) else {
                throw ActiveJobArguments.invalid(job, path, "is a BigDecimal (\(name)) that is not a finite number: \(value)")
            }
            return plain
        case let other?:
            let kind = other.hasSuffix("Serializer") ? String(other.dropLast("Serializer".count)) : other
            throw JobDecodingError("ActiveJob \(job): \(path) is a \(kind) (\(name)), which Warren cannot pass to a Swift job: "
                                   + "send it as plain values (strings, numbers, hashes) instead", reason: .unsupported)
        case nil:
            throw JobDecodingError("ActiveJob \(job): \(path) was written by the custom serializer \(name), which only Ruby can read: "
                                   + "send plain values (strings, numbers, hashes) or a GlobalID record instead", reason: .unsupported)
        }
    }

    /// `YYYY-MM-DD` with a month 1-12 and a day 1-31 (Ruby's `Date#iso8601`).
    static func isCalendarDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let month = Int(parts[1]), let day = Int(parts[2]), Int(parts[0]) != nil
        else { return false }
        return (1...12).contains(month) && (1...31).contains(day)
    }

    /// A BigDecimal's `to_s` (`"0.12345e2"`, `"-0.5e-3"`, `"12.5"`) as plain digits the way Rails 6.1 writes a
    /// BigDecimal argument (`to_s("F")`): `"12.345"`, `"-0.0005"`, `"12.0"`. `nil` for `NaN`, `Infinity` and text
    /// that is not a decimal number (or whose exponent is beyond ±1000).
    static func plainDecimal(_ text: String) -> String? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if let sign = s.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            s = s.dropFirst()
        }
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Int(s[s.index(after: e)...]), abs(value) <= 1000 else { return nil }
            exponent = value
            s = s[..<e]
        }
        let halves = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(halves.count) else { return nil }
        let whole = halves[0], fraction = halves.count == 2 ? halves[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), (whole + fraction).allSatisfy(\.isASCIIDigit) else { return nil }
        var digits = Array(whole + fraction)
        var point = whole.count + exponent  // digits before the decimal point
        if point < 0 {
            digits.insert(contentsOf: repeatElement("0", count: -point), at: 0)
            point = 0
        }
        if point > digits.count { digits.append(contentsOf: repeatElement("0", count: point - digits.count)) }
        var integer = String(digits[..<point]).drop { $0 == "0" }
        var decimals = Substring(String(digits[point...]))
        while decimals.last == "0" { decimals.removeLast() }
        if integer.isEmpty { integer = "0" }
        if decimals.isEmpty { decimals = "0" }
        let isZero = integer == "0" && decimals == "0"
        return (negative && !isZero ? "-" : "") + integer + "." + decimals
    }
}

extension Character {
    /// `0`...`9`.
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
