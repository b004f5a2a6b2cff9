import Foundation
import WarrenAMQP

/// Dead letters as text for people (the CLI's `dlq show`, the dashboard): field values, bodies, times.
public enum DeadLetterText {
    /// A UTC time, ISO-8601 to the second (`2026-11-30T20:10:33Z`), or `-`. A format style rather than an
    /// `ISO8601DateFormatter` per call: creating one costs an ICU formatter each time, which was 40% of a
    /// dead-letters page (50 rows).
    public static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return date.formatted(iso8601)
    }

    private static let iso8601 = Date.ISO8601FormatStyle()

    /// A header value: strings quoted, kinds other than string/int64 named.
    public static func value(_ v: FieldValue) -> String {
        switch v {
        case .void: return "void"
        case .bool(let b): return "\(b)"
        case .int64(let i): return "\(i)"
        case .int8, .uint8, .int16, .uint16, .int32, .uint32: return "\(v.intValue!)"
        case .float(let f): return "\(f) (float)"
        case .double(let d): return "\(d) (double)"
        case .decimal(let scale, let value): return "\(value)e-\(scale) (decimal)"
        case .string(let s): return "\"\(s)\""
        case .bytes(let b): return "0x" + b.map { String(format: "%02x", $0) }.joined() + " (bytes)"
        case .timestamp(let t): return "\(time(Date(timeIntervalSince1970: Double(t)))) (timestamp)"
        case .array(let a): return "[" + a.map(value).joined(separator: ", ") + "]"
        case .table(let t): return "{" + t.sorted { $0.key < $1.key }.map { "\($0.key): \(value($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// A header line's value, with a readable time after `*-at` millisecond headers.
    public static func header(_ key: String, _ v: FieldValue) -> String {
        let when = key.hasSuffix("-at") ? v.intValue.map { "  (\(time(Date(timeIntervalSince1970: Double($0) / 1000))))" } : nil
        return value(v) + (when ?? "")
    }

    /// A body: pretty JSON, else UTF-8 text, else a hex dump of the first 4 KiB.
    public static func body(_ bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "(empty)" }
        if let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
           let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) {
            return String(decoding: pretty, as: UTF8.self)
        }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var lines = ["(\(bytes.count) bytes, not UTF-8)"]
        for offset in stride(from: 0, to: min(bytes.count, 4096), by: 16) {
            let chunk = bytes[offset..<min(offset + 16, bytes.count)]
            let hex = chunk.map { String(format: "%02x", $0) }.joined(separator: " ")
            let ascii = String(chunk.map { (32..<127).contains($0) ? Character(UnicodeScalar($0)) : "." })
            lines.append(String(format: "%08x  ", offset) + hex.padding(toLength: 48, withPad: " ", startingAt: 0) + "  " + ascii)
        }
        if bytes.count > 4096 { lines.append("…") }
        return lines.joined(separator: "\n")
    }

    /// The error of a dead letter on one line: `type: message`.
    public static func error(_ l: DeadLetter) -> String {
        [l.errorType, l.errorMessage].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
    }
}
