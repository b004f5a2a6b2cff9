import Foundation
import XCTest
@testable import Warren

/// DST in America/New_York (2026: starts 03-08, ends 11-01; 2027: 03-14, 11-07)
/// and Europe/London (2026: 03-29, 10-25; 2027: 03-28, 10-31).
final class CronDaylightSavingTests: XCTestCase {
    let ny = TestZone.newYork
    let london = TestZone.london

    // MARK: Spring forward (02:00-03:00 is skipped in New York, 01:00-02:00 in London)

    func testFixedTimeInGapFiresOnceAtEndOfGap() {
        XCTAssertEqual(cronFires("30 2 * * *", after: "2026-03-07T12:00:00-05:00", in: ny, count: 3),
                       ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"])
        XCTAssertEqual(cronFires("30 1 * * *", after: "2026-03-28T12:00:00Z", in: london, count: 2),
                       ["2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"])
        XCTAssertEqual(cronFires("30 2 * * *", after: "2027-03-13T12:00:00-05:00", in: ny, count: 1),
                       ["2027-03-14T03:00:00-04:00"])
        XCTAssertEqual(cronFires("0 1 * * *", after: "2027-03-27T12:00:00Z", in: london, count: 2),
                       ["2027-03-28T02:00:00+01:00", "2027-03-29T01:00:00+01:00"])
    }

    func testSeveralFixedTimesInGapFireOnce() {
        XCTAssertEqual(cronFires("0,30 2 * * *", after: "2026-03-08T00:00:00-05:00", in: ny, count: 2),
                       ["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"])
        XCTAssertEqual(cronFires("0 2,3 * * *", after: "2026-03-08T00:00:00-05:00", in: ny, count: 3),
                       ["2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00", "2026-03-09T03:00:00-04:00"])
    }

    func testGapFireRespectsDayFields() {
        XCTAssertEqual(cronFires("30 2 * * SUN", after: "2026-03-01T12:00:00-05:00", in: ny, count: 2),
                       ["2026-03-08T03:00:00-04:00", "2026-03-15T02:30:00-04:00"])
        XCTAssertEqual(cronFires("30 2 * * MON", after: "2026-03-08T00:00:00-05:00", in: ny, count: 1),
                       ["2026-03-09T02:30:00-04:00"])
    }

    func testGapFireIsStrictlyAfterDate() {
        XCTAssertEqual(cronFires("30 2 * * *", after: "2026-03-08T03:00:00-04:00", in: ny, count: 1),
                       ["2026-03-09T02:30:00-04:00"])
    }

    func testSixFieldFixedTimeInGap() {
        XCTAssertEqual(cronFires("0 30 2 * * *", after: "2026-03-08T00:00:00-05:00", in: ny, count: 1),
                       ["2026-03-08T03:00:00-04:00"])
    }

    func testWildcardAndStepHoursSkipTheMissingHour() {
        XCTAssertEqual(cronFires("*/30 * * * *", after: "2026-03-08T01:00:00-05:00", in: ny, count: 3),
                       ["2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"])
        XCTAssertEqual(cronFires("0 * * * *", after: "2026-03-08T00:30:00-05:00", in: ny, count: 3),
                       ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"])
        XCTAssertEqual(cronFires("0 */2 * * *", after: "2026-03-08T00:30:00-05:00", in: ny, count: 2),
                       ["2026-03-08T04:00:00-04:00", "2026-03-08T06:00:00-04:00"])
        XCTAssertEqual(cronFires("*/20 * * * *", after: "2026-03-29T00:30:00Z", in: london, count: 3),
                       ["2026-03-29T00:40:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-29T02:20:00+01:00"])
    }

    func testFixedTimeOutsideGapIsUnaffected() {
        XCTAssertEqual(cronFires("15 3 * * *", after: "2026-03-08T00:00:00-05:00", in: ny, count: 1),
                       ["2026-03-08T03:15:00-04:00"])
    }

    // MARK: Fall back (01:00-02:00 happens twice)

    func testFixedTimeInOverlapFiresOnlyInFirstOccurrence() {
        XCTAssertEqual(cronFires("30 1 * * *", after: "2026-10-31T12:00:00-04:00", in: ny, count: 3),
                       ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00"])
        XCTAssertEqual(cronFires("30 1 * * *", after: "2026-10-24T12:00:00+01:00", in: london, count: 2),
                       ["2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"])
        XCTAssertEqual(cronFires("30 1 * * *", after: "2027-10-30T12:00:00+01:00", in: london, count: 2),
                       ["2027-10-31T01:30:00+01:00", "2027-11-01T01:30:00+00:00"])
    }

    func testFixedHourWithWildcardMinutesStaysInFirstOccurrence() {
        XCTAssertEqual(cronFires("*/15 1 * * *", after: "2026-11-01T00:50:00-04:00", in: ny, count: 5),
                       ["2026-11-01T01:00:00-04:00", "2026-11-01T01:15:00-04:00", "2026-11-01T01:30:00-04:00",
                        "2026-11-01T01:45:00-04:00", "2026-11-02T01:00:00-05:00"])
    }

    func testFixedTimeAlreadyPassedInFirstOccurrenceWaitsForNextDay() {
        XCTAssertEqual(cronFires("45 1 * * *", after: "2026-11-01T01:10:00-05:00", in: ny, count: 1),
                       ["2026-11-02T01:45:00-05:00"])
    }

    func testFixedTimeAfterOverlap() {
        XCTAssertEqual(cronFires("0 2 * * *", after: "2026-11-01T00:00:00-04:00", in: ny, count: 1),
                       ["2026-11-01T02:00:00-05:00"])
    }

    func testWildcardAndStepHoursFireInBothOccurrences() {
        XCTAssertEqual(cronFires("*/30 * * * *", after: "2026-11-01T00:45:00-04:00", in: ny, count: 5),
                       ["2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
                        "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"])
        XCTAssertEqual(cronFires("0 * * * *", after: "2026-11-01T00:30:00-04:00", in: ny, count: 3),
                       ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"])
        XCTAssertEqual(cronFires("0 * * * *", after: "2027-11-07T00:30:00-04:00", in: ny, count: 3),
                       ["2027-11-07T01:00:00-04:00", "2027-11-07T01:00:00-05:00", "2027-11-07T02:00:00-05:00"])
        XCTAssertEqual(cronFires("*/20 * * * *", after: "2026-10-25T00:50:00+01:00", in: london, count: 7),
                       ["2026-10-25T01:00:00+01:00", "2026-10-25T01:20:00+01:00", "2026-10-25T01:40:00+01:00",
                        "2026-10-25T01:00:00+00:00", "2026-10-25T01:20:00+00:00", "2026-10-25T01:40:00+00:00",
                        "2026-10-25T02:00:00+00:00"])
    }

    func testStartingInsideSecondOccurrence() {
        XCTAssertEqual(cronFires("*/30 * * * *", after: "2026-11-01T01:10:00-05:00", in: ny, count: 2),
                       ["2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00"])
    }

    /// A wildcard-hour job is elapsed-time-like: every 10 real minutes across both transitions.
    func testWildcardHoursKeepElapsedCadenceAcrossTransitions() throws {
        let cron = try CronExpression("*/10 * * * *")
        for start in ["2026-03-07T20:00:00-05:00", "2026-10-31T20:00:00-04:00"] {
            var cursor = isoDate(start)
            for _ in 0..<(24 * 6) {
                let next = try XCTUnwrap(cron.nextFire(after: cursor, in: ny))
                XCTAssertEqual(next.timeIntervalSince(cursor), 600, wallClock(next, ny))
                cursor = next
            }
        }
    }

    /// Many fires across a year of transitions stay strictly increasing and never repeat.
    func testLongRunIsMonotonic() throws {
        let definition = try ScheduleDefinition(name: "n", trigger: .cron(CronExpression("0 */4 * * *")),
                                                timeZone: ny, job: "j")
        let times = definition.fireTimes(after: isoDate("2026-01-01T00:00:00Z"), count: 6 * 400)
        XCTAssertEqual(times.count, 2400)
        XCTAssertEqual(zip(times, times.dropFirst()).filter { $0.0 >= $0.1 }.count, 0)
    }
}
