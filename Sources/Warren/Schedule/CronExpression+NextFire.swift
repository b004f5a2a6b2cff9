import Foundation

extension CronExpression {
    /// The first fire time strictly after `date`, with the fields read on the
    /// wall clock of `timeZone`; `nil` if there is none within `searchHorizon`
    /// (e.g. `0 0 30 2 *`).
    ///
    /// Daylight-saving transitions are handled the way cronie and Vixie cron
    /// users expect. A job has a *fixed hour* when its hour field has neither
    /// `*` nor a step (`30 2 * * *`, `0 1,13 * * *`); other jobs (`*/15 * * * *`,
    /// `0 * * * *`, `0 */2 * * *`) are elapsed-time-like.
    /// - Spring forward (a gap, e.g. 02:00-03:00 never happens): a fixed-hour
    ///   job with one or more fire times in the gap fires once, at the first
    ///   instant after the gap (`30 2 * * *` fires at 03:00 that day). Other jobs
    ///   simply have no fire times in the missing hour.
    /// - Fall back (an overlap, e.g. 01:00-02:00 happens twice): a fixed-hour job
    ///   fires only in the first occurrence (`30 1 * * *` fires once, in summer
    ///   time). Other jobs fire in both occurrences (`0 * * * *` fires at 01:00
    ///   summer time and again at 01:00 standard time).
    ///
    /// The search walks the zone's offset periods in order; within one period
    /// wall time and real time move together, so the first matching wall time
    /// in the period is the answer.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        let after = date.timeIntervalSince1970
        guard after.isFinite else { return nil }
        let horizon = after + Self.searchHorizon
        let fixedHour = hasFixedHour
        // Start a day early to learn which wall times already happened: a
        // fixed-hour job must not fire again in the second pass of an overlap.
        var periodStart = after - 86_400
        var previousOffset: Int?
        var occurredWalls = Int.min // wall times below this have already occurred
        while periodStart <= horizon {
            let startDate = Date(timeIntervalSince1970: periodStart)
            let offset = timeZone.secondsFromGMT(for: startDate)
            var periodEnd = timeZone.nextDaylightSavingTimeTransition(after: startDate)?.timeIntervalSince1970 ?? .infinity
            if periodEnd <= periodStart { periodEnd = .infinity }
            if fixedHour, let previousOffset, previousOffset < offset, periodStart > after {
                // Spring forward: wall times [start + previous, start + offset) are skipped.
                let gapStart = Int(periodStart) + previousOffset
                if firstWall(from: gapStart, before: Int(periodStart) + offset) != nil {
                    return startDate
                }
            }
            var lowerWall = max(Int((periodStart + Double(offset)).rounded(.up)),
                                Int((after + Double(offset)).rounded(.down)) + 1)
            if fixedHour {
                lowerWall = max(lowerWall, occurredWalls)
            }
            let upperWall = Int((min(periodEnd, horizon) + Double(offset)).rounded(.up))
            if let wall = firstWall(from: lowerWall, before: upperWall) {
                return Date(timeIntervalSince1970: TimeInterval(wall - offset))
            }
            occurredWalls = max(occurredWalls, upperWall)
            previousOffset = offset
            periodStart = periodEnd
        }
        return nil
    }
}
