/// One parsed field of a cron expression: the set of values it allows.
struct CronField: Hashable, Sendable {
    /// Which position a field holds in a cron expression.
    enum Kind: Sendable, CaseIterable {
        case second, minute, hour, dayOfMonth, month, dayOfWeek

        /// The name used in error messages.
        var name: String {
            switch self {
            case .second: "second"
            case .minute: "minute"
            case .hour: "hour"
            case .dayOfMonth: "day-of-month"
            case .month: "month"
            case .dayOfWeek: "day-of-week"
            }
        }

        /// The values a token may name. Day-of-week accepts 7 as a second Sunday.
        var bounds: ClosedRange<Int> {
            switch self {
            case .second, .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        /// Case-insensitive (upper-cased) names accepted in place of numbers.
        var names: [String: Int] {
            switch self {
            case .month:
                ["JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
                 "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12]
            case .dayOfWeek:
                ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]
            default:
                [:]
            }
        }
    }

    /// Bit `n` is set when value `n` is allowed (day-of-week 7 is stored as 0).
    let values: UInt64
    /// The field's text starts with `*` (`*` or `*/n`). Used for Vixie-cron
    /// day matching and for the DST rules.
    let startsWithStar: Bool
    /// The field's text contains a step (`/n`).
    let hasStep: Bool

    /// The field that allows exactly `value` (used for the implicit seconds field).
    init(only value: Int) {
        self.init(values: 1 << UInt64(value), startsWithStar: false, hasStep: false)
    }

    init(values: UInt64, startsWithStar: Bool, hasStep: Bool) {
        self.values = values
        self.startsWithStar = startsWithStar
        self.hasStep = hasStep
    }

    func contains(_ value: Int) -> Bool {
        values & (1 << UInt64(value)) != 0
    }

    /// The smallest allowed value that is `>= value`, if any.
    func next(atLeast value: Int) -> Int? {
        guard value < 64 else { return nil }
        let remaining = values & ~((1 << UInt64(value)) - 1)
        return remaining == 0 ? nil : remaining.trailingZeroBitCount
    }
}
