/// A proleptic-Gregorian wall-clock time with no time zone attached.
///
/// Wall times are counted as "wall seconds": seconds since 1970-01-01 00:00:00
/// as if the wall clock were UTC. Cron fields are matched against wall times;
/// `CronExpression` maps them to real instants, zone offset by zone offset.
struct CivilTime: Hashable, Sendable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    static let secondsPerDay = 86_400

    init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// The wall time `wallSeconds` seconds after 1970-01-01 00:00:00.
    init(wallSeconds: Int) {
        let days = Self.floorDivide(wallSeconds, Self.secondsPerDay)
        let seconds = wallSeconds - days * Self.secondsPerDay
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = Self.floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        self.init(
            year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0),
            month: month,
            day: dayOfYear - (153 * monthIndex + 2) / 5 + 1,
            hour: seconds / 3600,
            minute: seconds / 60 % 60,
            second: seconds % 60
        )
    }

    /// Days since 1970-01-01 of this date (Howard Hinnant's days_from_civil).
    var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = Self.floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Seconds since 1970-01-01 00:00:00 on the wall clock.
    var wallSeconds: Int {
        daysSinceEpoch * Self.secondsPerDay + hour * 3600 + minute * 60 + second
    }

    /// Day of the week, 0 = Sunday ... 6 = Saturday.
    var weekday: Int {
        Self.floorModulo(daysSinceEpoch + 4, 7) // 1970-01-01 was a Thursday.
    }

    /// Division rounding toward negative infinity.
    static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    /// Remainder with the sign of the divisor.
    static func floorModulo(_ value: Int, _ divisor: Int) -> Int {
        value - floorDivide(value, divisor) * divisor
    }
}
