import Foundation
import XCTest
@testable import Warren

final class CronExpressionTests: XCTestCase {
    func testStepsOnWildcard() {
        XCTAssertEqual(cronFires("*/15 * * * *", after: "2026-01-01T00:07:00Z", count: 4),
                       ["2026-01-01T00:15:00+00:00", "2026-01-01T00:30:00+00:00",
                        "2026-01-01T00:45:00+00:00", "2026-01-01T01:00:00+00:00"])
    }

    func testRange() {
        XCTAssertEqual(cronFires("1-5 * * * *", after: "2026-01-01T10:03:00Z", count: 3),
                       ["2026-01-01T10:04:00+00:00", "2026-01-01T10:05:00+00:00", "2026-01-01T11:01:00+00:00"])
    }

    func testRangeWithStep() {
        XCTAssertEqual(cronFires("1-30/10 * * * *", after: "2026-01-01T10:00:00Z", count: 4),
                       ["2026-01-01T10:01:00+00:00", "2026-01-01T10:11:00+00:00",
                        "2026-01-01T10:21:00+00:00", "2026-01-01T11:01:00+00:00"])
    }

    func testStartWithStep() {
        XCTAssertEqual(cronFires("5/20 * * * *", after: "2026-01-01T10:00:00Z", count: 4),
                       ["2026-01-01T10:05:00+00:00", "2026-01-01T10:25:00+00:00",
                        "2026-01-01T10:45:00+00:00", "2026-01-01T11:05:00+00:00"])
    }

    func testList() {
        XCTAssertEqual(cronFires("1,2,5-7 * * * *", after: "2026-01-01T10:01:00Z", count: 5),
                       ["2026-01-01T10:02:00+00:00", "2026-01-01T10:05:00+00:00", "2026-01-01T10:06:00+00:00",
                        "2026-01-01T10:07:00+00:00", "2026-01-01T11:01:00+00:00"])
    }

    func testMonthNamesAnyCase() {
        XCTAssertEqual(cronFires("0 12 * JAN,jul *", after: "2026-01-31T12:00:00Z", count: 2),
                       ["2026-07-01T12:00:00+00:00", "2026-07-02T12:00:00+00:00"])
        XCTAssertEqual(cronFires("0 0 1 jan-MAR/2 *", after: "2026-01-01T00:00:00Z", count: 2),
                       ["2026-03-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"])
    }

    func testDayNames() {
        XCTAssertEqual(cronFires("0 9 * * mon-fri", after: "2026-01-02T10:00:00Z", count: 2),
                       ["2026-01-05T09:00:00+00:00", "2026-01-06T09:00:00+00:00"])
    }

    func testSundayIsZeroAndSeven() {
        let sundays = ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"]
        XCTAssertEqual(cronFires("0 0 * * 0", after: "2026-01-01T00:00:00Z", count: 2), sundays)
        XCTAssertEqual(cronFires("0 0 * * 7", after: "2026-01-01T00:00:00Z", count: 2), sundays)
        XCTAssertEqual(cronFires("0 0 * * SUN", after: "2026-01-01T00:00:00Z", count: 2), sundays)
        XCTAssertEqual(cronFires("0 0 * * 5-7", after: "2026-01-01T00:00:00Z", count: 4),
                       ["2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00",
                        "2026-01-04T00:00:00+00:00", "2026-01-09T00:00:00+00:00"])
    }

    func testAliases() {
        let start = "2026-05-15T10:30:00Z" // a Friday
        let expected = [
            "@yearly": "2027-01-01T00:00:00+00:00", "@annually": "2027-01-01T00:00:00+00:00",
            "@monthly": "2026-06-01T00:00:00+00:00", "@weekly": "2026-05-17T00:00:00+00:00",
            "@daily": "2026-05-16T00:00:00+00:00", "@midnight": "2026-05-16T00:00:00+00:00",
            "@hourly": "2026-05-15T11:00:00+00:00", "@DAILY": "2026-05-16T00:00:00+00:00",
        ]
        for (alias, next) in expected {
            XCTAssertEqual(cronFires(alias, after: start, count: 1), [next], alias)
        }
    }

    func testDayOfMonthOrDayOfWeekWhenBothRestricted() {
        // Every 13th and every Friday (April 2026: Fridays 3, 10, 17, 24; the 13th is a Monday).
        XCTAssertEqual(cronFires("0 0 13 * FRI", after: "2026-04-01T00:00:00Z", count: 6),
                       ["2026-04-03T00:00:00+00:00", "2026-04-10T00:00:00+00:00", "2026-04-13T00:00:00+00:00",
                        "2026-04-17T00:00:00+00:00", "2026-04-24T00:00:00+00:00", "2026-05-01T00:00:00+00:00"])
    }

    func testDayOfMonthAndDayOfWeekWhenOneStartsWithStar() {
        // */2 starts with `*`, so both must match: odd days that are Fridays.
        XCTAssertEqual(cronFires("0 0 */2 * FRI", after: "2026-04-01T00:00:00Z", count: 3),
                       ["2026-04-03T00:00:00+00:00", "2026-04-17T00:00:00+00:00", "2026-05-01T00:00:00+00:00"])
        XCTAssertEqual(cronFires("0 0 13 * *", after: "2026-04-01T00:00:00Z", count: 2),
                       ["2026-04-13T00:00:00+00:00", "2026-05-13T00:00:00+00:00"])
    }

    func testLeapDay() {
        XCTAssertEqual(cronFires("0 0 29 2 *", after: "2026-01-01T00:00:00Z", count: 2),
                       ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"])
        // 2100 is not a leap year.
        XCTAssertEqual(cronFires("0 0 29 2 *", after: "2096-03-01T00:00:00Z", count: 1),
                       ["2104-02-29T00:00:00+00:00"])
    }

    func testNeverFires() throws {
        for text in ["0 0 30 2 *", "0 0 31 4,6,9,11 *"] {
            XCTAssertNil(try CronExpression(text).nextFire(after: isoDate("2026-01-01T00:00:00Z"), in: TestZone.utc), text)
        }
    }

    func testLastDaysOfMonths() {
        XCTAssertEqual(cronFires("0 0 31 * *", after: "2026-01-31T00:00:00Z", count: 4),
                       ["2026-03-31T00:00:00+00:00", "2026-05-31T00:00:00+00:00",
                        "2026-07-31T00:00:00+00:00", "2026-08-31T00:00:00+00:00"])
        XCTAssertEqual(cronFires("0 0 30 * *", after: "2026-01-30T00:00:00Z", count: 1), ["2026-03-30T00:00:00+00:00"])
    }

    func testStrictlyAfter() {
        XCTAssertEqual(cronFires("0 0 * * *", after: "2026-01-01T00:00:00Z", count: 1), ["2026-01-02T00:00:00+00:00"])
        XCTAssertEqual(cronFires("* * * * *", after: "2026-01-01T00:00:00.500Z", count: 1), ["2026-01-01T00:01:00+00:00"])
        XCTAssertEqual(cronFires("* * * * *", after: "2026-01-01T00:00:59.500Z", count: 1), ["2026-01-01T00:01:00+00:00"])
    }

    func testSixFieldsWithSeconds() {
        XCTAssertEqual(cronFires("*/20 * * * * *", after: "2026-01-01T00:00:05Z", count: 3),
                       ["2026-01-01T00:00:20+00:00", "2026-01-01T00:00:40+00:00", "2026-01-01T00:01:00+00:00"])
        XCTAssertEqual(cronFires("30 0 12 * * *", after: "2026-01-01T00:00:00Z", count: 2),
                       ["2026-01-01T12:00:30+00:00", "2026-01-02T12:00:30+00:00"])
        XCTAssertEqual(cronFires("15 0 0 29 2 *", after: "2026-01-01T00:00:00Z", count: 1), ["2028-02-29T00:00:15+00:00"])
    }

    func testZoneWithoutDaylightSaving() {
        XCTAssertEqual(cronFires("0 9 * * *", after: "2026-01-01T00:00:00Z", in: TestZone.kolkata, count: 1),
                       ["2026-01-01T09:00:00+05:30"])
    }

    func testDescriptionAndEquality() throws {
        XCTAssertEqual(try CronExpression("  */5   * * * * ").description, "*/5 * * * *")
        XCTAssertEqual(try CronExpression("@Daily").description, "@daily")
        XCTAssertEqual(try CronExpression("0 0 * * *"), try CronExpression("0  0 * * *"))
        XCTAssertNotEqual(try CronExpression("0 0 * * *"), try CronExpression("0 1 * * *"))
    }

    func testErrorsNameFieldTokenAndReason() {
        let cases: [(String, ScheduleError.Code, String)] = [
            ("61 * * * *", .cronOutOfRange, "minute field: 61 is out of range 0-59"),
            ("0 24 * * *", .cronOutOfRange, "hour field: 24 is out of range 0-23"),
            ("0 0 0 * *", .cronOutOfRange, "day-of-month field: 0 is out of range 1-31"),
            ("0 0 * 13 *", .cronOutOfRange, "month field: 13 is out of range 1-12"),
            ("0 0 * * 8", .cronOutOfRange, "day-of-week field: 8 is out of range 0-7"),
            ("60 * * * * *", .cronOutOfRange, "second field: 60 is out of range 0-59"),
            ("*/0 * * * *", .cronInvalidStep, "minute field: step 0 in */0 must be a positive integer"),
            ("1/x * * * *", .cronInvalidStep, "minute field: step x in 1/x must be a positive integer"),
            ("5-1 * * * *", .cronInvalidRange, "minute field: range 5-1 runs backwards (5 > 1)"),
            ("0 0 * FOO *", .cronInvalidToken, "month field: \"FOO\" is not a number or a name"),
            ("0 0 ? * *", .cronInvalidToken, "day-of-month field: \"?\" is not a number"),
            ("0 0 * * MON-FUN", .cronInvalidToken, "day-of-week field: \"FUN\" is not a number or a name"),
            ("1,,2 * * * *", .cronInvalidToken, "minute field: empty list item"),
            ("* * * *", .cronFieldCount,
             "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), found 4 in \"* * * *\""),
            ("@every 5m", .cronUnknownAlias,
             "@every 5m is not a cron alias (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"),
        ]
        for (text, code, message) in cases {
            XCTAssertThrowsError(try CronExpression(text), text) { error in
                let error = error as? ScheduleError
                XCTAssertEqual(error?.code, code, text)
                XCTAssertEqual(error?.message, message, text)
            }
        }
    }

    /// Compares against a minute-by-minute scan using Foundation's Calendar.
    func testAgreesWithBruteForceScan() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TestZone.utc
        let start = isoDate("2028-02-20T00:00:00Z")
        let end = isoDate("2028-03-06T00:00:00Z")
        for text in ["*/7 3-5 * * *", "0 0 13 * FRI", "15 */6 */2 * *", "0 12 1,15 * MON", "30 9 * FEB-MAR 1-5",
                     "0 0 29 2 *", "59 23 28-31 * *"] {
            let cron = try CronExpression(text)
            let fields = text.split(separator: " ").map(String.init)
            let minutes = try CronParser.field(fields[0], .minute), hours = try CronParser.field(fields[1], .hour)
            let days = try CronParser.field(fields[2], .dayOfMonth), months = try CronParser.field(fields[3], .month)
            let weekdays = try CronParser.field(fields[4], .dayOfWeek)
            var expected: [Date] = []
            var t = start.addingTimeInterval(60)
            while t < end {
                let c = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: t)
                let dayOK = days.startsWithStar || weekdays.startsWithStar
                    ? days.contains(c.day!) && weekdays.contains(c.weekday! - 1)
                    : days.contains(c.day!) || weekdays.contains(c.weekday! - 1)
                if minutes.contains(c.minute!) && hours.contains(c.hour!) && months.contains(c.month!) && dayOK {
                    expected.append(t)
                }
                t.addTimeInterval(60)
            }
            var actual: [Date] = []
            var cursor = start
            while let next = cron.nextFire(after: cursor, in: TestZone.utc), next < end {
                actual.append(next)
                cursor = next
            }
            XCTAssertFalse(expected.isEmpty, text)
            XCTAssertEqual(actual, expected, text)
        }
    }
}
