import Foundation

/// One schedule as the scheduler replicas announce it: what the dashboard's schedules page shows.
public struct ScheduleStatus: Sendable, Codable, Hashable {
    /// Schedule name.
    public var name: String
    /// Trigger as written, with time zone.
    public var expression: String
    /// Job enqueued.
    public var job: String
    /// Work queue.
    public var queue: String
    /// Next fire times (from the leader's announcement, else any replica's).
    public var nextFires: [Date]
    /// The latest fire any live replica published since it started; `nil` when none did (a new leader
    /// reports fires from its own term only).
    public var lastFire: Date?
    /// The leading replica (`host:pid`), `nil` while none leads.
    public var leader: String?
    /// Live replicas that carry this schedule.
    public var replicas: Int

    /// The schedules in `processes` (announcements of any role; schedulers are read), by name.
    public static func from(_ processes: [Announcement]) -> [ScheduleStatus] {
        var out: [String: ScheduleStatus] = [:]
        for p in processes where p.role == Announcer.Role.scheduler.rawValue {
            let leading = p.leading == true
            for s in p.schedules ?? [] {
                var e = out[s.name] ?? ScheduleStatus(name: s.name, expression: s.expression, job: s.job, queue: s.queue,
                                                      nextFires: s.nextFires, lastFire: nil, leader: nil, replicas: 0)
                e.replicas += 1
                if leading {
                    e.leader = "\(p.host):\(p.pid)"
                    e.nextFires = s.nextFires
                    e.expression = s.expression
                }
                if let f = s.lastFire, f > (e.lastFire ?? .distantPast) { e.lastFire = f }
                out[s.name] = e
            }
        }
        return out.values.sorted { $0.name < $1.name }
    }
}
