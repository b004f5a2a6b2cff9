import Foundation

/// A cron expression: when a recurring job fires, in wall-clock terms.
///
/// Accepted forms:
/// - 5 fields, `minute hour day-of-month month day-of-week`, firing at second 0;
/// - 6 fields, `second minute hour day-of-month month day-of-week`;
/// - the aliases `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
///   `@midnight` and `@hourly`.
///
/// Each field is a comma-separated list of `*`, `n` or `a-b`, each optionally
/// followed by a step `/s` (`*/15`, `1-30/5`, and `5/10` meaning `5-max/10`).
/// Months accept `JAN`-`DEC` and days of the week `SUN`-`SAT`, in any case;
/// day-of-week is 0-7 with both 0 and 7 meaning Sunday.
///
/// Days follow Vixie cron: when both day-of-month and day-of-week are
/// restricted (neither starts with `*`), a day matches if *either* matches, so
/// `0 0 13 * FRI` fires on every 13th and on every Friday; otherwise both must.
///
/// Two expressions are equal when they were written the same way (after
/// collapsing whitespace); `description` returns that text.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as written, with whitespace collapsed.
    public let description: String
    let fields: CronParser.Fields

    /// How far ahead `nextFire(after:in:)` looks before concluding that the
    /// expression never fires again: ten years, so that leap-day schedules
    /// survive non-leap century years such as 2100.
    public static let searchHorizon: TimeInterval = 3653 * 86_400

    /// Parses a cron expression.
    ///
    /// - Throws: `ScheduleError` with a `cron...` code whose message names the
    ///   field, the token and the reason, e.g. `minute field: 61 is out of range 0-59`.
    public init(_ text: String) throws(ScheduleError) {
        fields = try CronParser.parse(text)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        description = trimmed.hasPrefix("@")
            ? trimmed.lowercased()
            : trimmed.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Whether the hour field names fixed hours (no `*` and no step). Only such
    /// jobs get the wall-clock DST treatment; see `nextFire(after:in:)`.
    var hasFixedHour: Bool {
        !fields.hour.startsWithStar && !fields.hour.hasStep
    }

    /// Whether a calendar day matches, with Vixie cron's either-or rule.
    func matchesDay(_ time: CivilTime) -> Bool {
        let dayOfMonth = fields.dayOfMonth.contains(time.day)
        let dayOfWeek = fields.dayOfWeek.contains(time.weekday)
        if !fields.dayOfMonth.startsWithStar && !fields.dayOfWeek.startsWithStar {
            return dayOfMonth || dayOfWeek
        }
        return dayOfMonth && dayOfWeek
    }

    /// The first matching wall time in `start..<end` (in wall seconds, see
    /// `CivilTime`). Skips whole years, months, days, hours and minutes that
    /// cannot match, so a search across years takes at most a few thousand steps.
    func firstWall(from start: Int, before end: Int) -> Int? {
        var time = CivilTime(wallSeconds: start)
        func startOfNext(_ unit: Int) -> CivilTime {
            CivilTime(wallSeconds: (CivilTime.floorDivide(time.wallSeconds, unit) + 1) * unit)
        }
        while time.wallSeconds < end {
            guard let month = fields.month.next(atLeast: time.month) else {
                time = CivilTime(year: time.year + 1, month: 1, day: 1)
                continue
            }
            if month != time.month {
                time = CivilTime(year: time.year, month: month, day: 1)
                continue
            }
            guard matchesDay(time), let hour = fields.hour.next(atLeast: time.hour) else {
                time = startOfNext(86_400)
                continue
            }
            if hour != time.hour {
                (time.hour, time.minute, time.second) = (hour, 0, 0)
            }
            guard let minute = fields.minute.next(atLeast: time.minute) else {
                time = startOfNext(3600)
                continue
            }
            if minute != time.minute {
                (time.minute, time.second) = (minute, 0)
            }
            guard let second = fields.second.next(atLeast: time.second) else {
                time = startOfNext(60)
                continue
            }
            time.second = second
            let wall = time.wallSeconds
            return wall < end ? wall : nil
        }
        return nil
    }
}
