import Foundation

/// Turns the text of a cron expression into fields.
enum CronParser {
    /// The fields of an expression, seconds first.
    struct Fields: Hashable, Sendable {
        var second: CronField
        var minute: CronField
        var hour: CronField
        var dayOfMonth: CronField
        var month: CronField
        var dayOfWeek: CronField
        /// The expression was written with a seconds field.
        var hasSeconds: Bool
    }

    /// Cron's `@` shorthands and what they stand for.
    static let aliases: [String: String] = [
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
        "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]

    static func parse(_ text: String) throws(ScheduleError) -> Fields {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var tokens = trimmed.split(whereSeparator: \.isWhitespace).map(String.init)
        if trimmed.hasPrefix("@") {
            guard tokens.count == 1, let expansion = aliases[trimmed.lowercased()] else {
                throw ScheduleError(.cronUnknownAlias,
                                    "\(trimmed) is not a cron alias (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)")
            }
            tokens = expansion.split(separator: " ").map(String.init)
        }
        guard tokens.count == 5 || tokens.count == 6 else {
            throw ScheduleError(.cronFieldCount,
                                "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), found \(tokens.count) in \"\(trimmed)\"")
        }
        let hasSeconds = tokens.count == 6
        if !hasSeconds { tokens.insert("0", at: 0) }
        return Fields(
            second: try field(tokens[0], .second),
            minute: try field(tokens[1], .minute),
            hour: try field(tokens[2], .hour),
            dayOfMonth: try field(tokens[3], .dayOfMonth),
            month: try field(tokens[4], .month),
            dayOfWeek: try field(tokens[5], .dayOfWeek),
            hasSeconds: hasSeconds
        )
    }

    /// Parses one field: a comma-separated list of `*`, `a`, `a-b`, each with an optional `/step`.
    static func field(_ text: String, _ kind: CronField.Kind) throws(ScheduleError) -> CronField {
        var values: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            for value in try expand(String(item), kind) {
                values |= 1 << UInt64(kind == .dayOfWeek && value == 7 ? 0 : value)
            }
        }
        return CronField(values: values, startsWithStar: text.hasPrefix("*"), hasStep: text.contains("/"))
    }

    private static func expand(_ item: String, _ kind: CronField.Kind) throws(ScheduleError) -> StrideThrough<Int> {
        func fail(_ code: ScheduleError.Code, _ why: String) -> ScheduleError {
            ScheduleError(code, "\(kind.name) field: \(why)")
        }
        guard !item.isEmpty else { throw fail(.cronInvalidToken, "empty list item") }
        let parts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw fail(.cronInvalidStep, "\(item) has more than one step") }
        var step = 1
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parsed > 0 else {
                throw fail(.cronInvalidStep, "step \(parts[1]) in \(item) must be a positive integer")
            }
            step = parsed
        }
        let base = parts[0]
        let range: ClosedRange<Int>
        if base == "*" {
            range = kind == .dayOfWeek ? 0...6 : kind.bounds
        } else if let dash = base.firstIndex(of: "-") {
            let low = try value(base[..<dash], kind)
            let high = try value(base[base.index(after: dash)...], kind)
            guard low <= high else {
                throw fail(.cronInvalidRange, "range \(base) runs backwards (\(low) > \(high))")
            }
            range = low...high
        } else {
            let single = try value(base, kind)
            // `5/10` means "from 5 to the end, every 10".
            range = parts.count == 2 ? single...kind.bounds.upperBound : single...single
        }
        return stride(from: range.lowerBound, through: range.upperBound, by: step)
    }

    private static func value(_ token: Substring, _ kind: CronField.Kind) throws(ScheduleError) -> Int {
        if let number = Int(token) {
            guard kind.bounds.contains(number) else {
                throw ScheduleError(.cronOutOfRange,
                                    "\(kind.name) field: \(number) is out of range \(kind.bounds.lowerBound)-\(kind.bounds.upperBound)")
            }
            return number
        }
        if let named = kind.names[token.uppercased()] {
            return named
        }
        let hint = kind.names.isEmpty ? "a number" : "a number or a name"
        throw ScheduleError(.cronInvalidToken, "\(kind.name) field: \"\(token)\" is not \(hint)")
    }
}
