import Foundation

/// Which fires a leader publishes, and when: pure timing logic, no broker.
struct FirePlan {
    /// The next fire of one schedule.
    struct Entry: Sendable {
        /// Index into the schedule list.
        let schedule: Int
        /// The scheduled fire time (what the fire id names).
        var fire: Date
        /// When to publish it: the fire time plus random jitter.
        var publishAt: Date
    }

    /// Fires in `lastFired <.. now` to publish on taking over, oldest first.
    ///
    /// Fires less than `lateWindow` seconds old are always published (a takeover or a reconnect is not
    /// downtime); older ones follow the schedule's ``MissedFirePolicy`` (`fireLatest` only when no recent
    /// fire is published anyway). Fires already past their expiry are left out. No record (a schedule that
    /// never fired) means nothing to catch up.
    static func catchUp(_ schedule: ScheduleDefinition, lastFired: Date?, now: Date, lateWindow: Double) -> [Date] {
        guard let last = lastFired, last < now else { return [] }
        let trigger = schedule.trigger
        let zone = schedule.timeZone
        let lateStart = max(last, now.addingTimeInterval(-max(0, lateWindow)))
        let late = MissedFirePolicy.fires(after: lateStart, upTo: now, trigger: trigger, timeZone: zone)
        var older: [Date] = []
        if lateStart > last {
            switch schedule.missedFires {
            case .skip:
                break
            case .fireLatest:
                if late.isEmpty {
                    older = MissedFirePolicy.latestFire(after: last, upTo: lateStart, trigger: trigger, timeZone: zone)
                        .map { [$0] } ?? []
                }
            case .fireAll(let window):
                let start = max(last, now.addingTimeInterval(-window.seconds))
                if start < lateStart {
                    older = MissedFirePolicy.fires(after: start, upTo: lateStart, trigger: trigger, timeZone: zone)
                }
            }
        }
        let all = older + late
        guard let expiry = schedule.expiry else { return all }
        return all.filter { $0.addingTimeInterval(expiry.seconds) > now }
    }

    /// The first fire strictly after `date`, with its jittered publish time; `nil` when the trigger is done.
    static func next(_ schedule: ScheduleDefinition, index: Int, after date: Date) -> Entry? {
        guard let fire = schedule.nextFire(after: date) else { return nil }
        let jitter = schedule.jitter.map { $0 > .zero ? Double.random(in: 0...$0.seconds) : 0 } ?? 0
        return Entry(schedule: index, fire: fire, publishAt: fire.addingTimeInterval(jitter))
    }
}
