import Foundation

/// What makes a schedule fire.
public enum ScheduleTrigger: Sendable, Hashable {
    /// Fires whenever the cron expression matches the wall clock of the
    /// schedule's time zone.
    case cron(CronExpression)
    /// Fires every `every` at `anchor + k * every` for k = 0, 1, 2, ...
    /// A `nil` anchor means the Unix epoch, so that every replica computes the
    /// same fire times without coordinating. Time zones do not apply.
    case interval(every: Duration, anchor: Date?)
    /// Fires once, at the given instant.
    case once(Date)

    /// The first fire time strictly after `date`, or `nil` if there is none
    /// (a past `.once`, a non-positive interval, or a cron expression that
    /// never matches again).
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        switch self {
        case .cron(let expression):
            return expression.nextFire(after: date, in: timeZone)
        case .interval(let every, let anchor):
            let seconds = every.seconds
            guard seconds > 0 else { return nil }
            let start = anchor ?? Date(timeIntervalSince1970: 0)
            guard date >= start else { return start }
            var k = (date.timeIntervalSince(start) / seconds).rounded(.down) + 1
            // Guard against floating-point rounding landing on or before `date`.
            while start.addingTimeInterval(k * seconds) <= date { k += 1 }
            return start.addingTimeInterval(k * seconds)
        case .once(let fire):
            return fire > date ? fire : nil
        }
    }
}
