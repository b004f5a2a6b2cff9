import Foundation

/// What a scheduler does about fire times that passed while it was not
/// running (or not leading).
public enum MissedFirePolicy: Sendable, Hashable {
    /// Drop missed fires; wait for the next one.
    case skip
    /// Publish only the most recent missed fire.
    case fireLatest
    /// Publish every missed fire less than `within` old, oldest first.
    case fireAll(within: Duration)

    /// The most fires `fires(missedBetween:and:trigger:timeZone:)` returns.
    public static let maximumFires = 10_000

    /// The missed fire times to publish now: fires in `lastFired <.. now`
    /// (after the last published fire, up to and including `now`), chosen by
    /// this policy, oldest first; `.fireAll` keeps the oldest `maximumFires`.
    public func fires(missedBetween lastFired: Date, and now: Date,
                      trigger: ScheduleTrigger, timeZone: TimeZone) -> [Date] {
        guard lastFired < now else { return [] }
        switch self {
        case .skip:
            return []
        case .fireAll(let window):
            let start = max(lastFired, now.addingTimeInterval(-max(window.seconds, 0)))
            return Self.fires(after: start, upTo: now, trigger: trigger, timeZone: timeZone)
        case .fireLatest:
            return Self.latestFire(after: lastFired, upTo: now, trigger: trigger, timeZone: timeZone).map { [$0] } ?? []
        }
    }

    /// The last fire in `start <.. end`, found with a few dozen `nextFire`
    /// calls however many fires were missed: widen a look-back window until it
    /// holds a fire, then bisect between "has a fire after" and "has none".
    static func latestFire(after start: Date, upTo end: Date,
                           trigger: ScheduleTrigger, timeZone: TimeZone) -> Date? {
        func hasFire(after date: Date) -> Bool {
            trigger.nextFire(after: date, in: timeZone).map { $0 <= end } ?? false
        }
        var withFire: Date // some fire lies in withFire <.. end
        var withoutFire = end // no fire lies in withoutFire <.. end
        var lookBack = 1.0
        while true {
            let candidate = max(start, end.addingTimeInterval(-lookBack))
            if hasFire(after: candidate) {
                withFire = candidate
                break
            }
            if candidate == start { return nil }
            withoutFire = candidate
            lookBack *= 2
        }
        while withoutFire.timeIntervalSince(withFire) > 0.001 {
            let middle = withFire.addingTimeInterval(withoutFire.timeIntervalSince(withFire) / 2)
            if hasFire(after: middle) {
                withFire = middle
            } else {
                withoutFire = middle
            }
        }
        return trigger.nextFire(after: withFire, in: timeZone)
    }

    /// Fires in `start <.. end`, oldest first, at most `maximumFires`.
    static func fires(after start: Date, upTo end: Date,
                      trigger: ScheduleTrigger, timeZone: TimeZone) -> [Date] {
        var result: [Date] = []
        var cursor = start
        while result.count < maximumFires,
              let fire = trigger.nextFire(after: cursor, in: timeZone), fire <= end {
            result.append(fire)
            cursor = fire
        }
        return result
    }
}
