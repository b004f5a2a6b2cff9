import Foundation
import XCTest
@testable import Warren

final class ScheduleTriggerTests: XCTestCase {
    func testIntervalAnchoredAtEpochByDefault() {
        let trigger = ScheduleTrigger.interval(every: .seconds(30), anchor: nil)
        XCTAssertEqual(trigger.nextFire(after: isoDate("2026-01-01T00:00:10Z"), in: TestZone.utc), isoDate("2026-01-01T00:00:30Z"))
        XCTAssertEqual(trigger.nextFire(after: isoDate("2026-01-01T00:00:30Z"), in: TestZone.utc), isoDate("2026-01-01T00:01:00Z"))
        // Time zones do not matter for intervals.
        XCTAssertEqual(trigger.nextFire(after: isoDate("2026-01-01T00:00:10Z"), in: TestZone.newYork), isoDate("2026-01-01T00:00:30Z"))
    }

    func testFractionalInterval() {
        let trigger = ScheduleTrigger.interval(every: .milliseconds(250), anchor: nil)
        XCTAssertEqual(trigger.nextFire(after: Date(timeIntervalSince1970: 1.1), in: TestZone.utc),
                       Date(timeIntervalSince1970: 1.25))
    }

    func testIntervalWithAnchorStartsAtAnchor() {
        let anchor = isoDate("2026-01-01T00:00:05Z")
        let trigger = ScheduleTrigger.interval(every: .seconds(90), anchor: anchor)
        XCTAssertEqual(trigger.nextFire(after: isoDate("2025-12-31T00:00:00Z"), in: TestZone.utc), anchor)
        XCTAssertEqual(trigger.nextFire(after: anchor, in: TestZone.utc), isoDate("2026-01-01T00:01:35Z"))
        XCTAssertEqual(trigger.nextFire(after: isoDate("2026-01-01T01:00:00Z"), in: TestZone.utc), isoDate("2026-01-01T01:00:05Z"))
        XCTAssertEqual(trigger.nextFire(after: isoDate("2026-01-01T01:00:05Z"), in: TestZone.utc), isoDate("2026-01-01T01:01:35Z"))
    }

    func testNonPositiveIntervalNeverFires() {
        XCTAssertNil(ScheduleTrigger.interval(every: .zero, anchor: nil).nextFire(after: Date(), in: TestZone.utc))
        XCTAssertNil(ScheduleTrigger.interval(every: .seconds(-1), anchor: nil).nextFire(after: Date(), in: TestZone.utc))
    }

    func testOnce() {
        let launch = isoDate("2027-01-01T00:00:00Z")
        XCTAssertEqual(ScheduleTrigger.once(launch).nextFire(after: isoDate("2026-12-31T23:59:59Z"), in: TestZone.utc), launch)
        XCTAssertNil(ScheduleTrigger.once(launch).nextFire(after: launch, in: TestZone.utc))
    }

    func testCronUsesTimeZone() throws {
        let trigger = ScheduleTrigger.cron(try CronExpression("0 3 * * *"))
        XCTAssertEqual(trigger.nextFire(after: isoDate("2026-07-01T00:00:00Z"), in: TestZone.london), isoDate("2026-07-01T02:00:00Z"))
    }
}

final class MissedFirePolicyTests: XCTestCase {
    let hourly = ScheduleTrigger.cron(try! CronExpression("0 * * * *"))

    func missed(_ policy: MissedFirePolicy, _ trigger: ScheduleTrigger? = nil,
                from lastFired: String, to now: String) -> [Date] {
        policy.fires(missedBetween: isoDate(lastFired), and: isoDate(now), trigger: trigger ?? hourly, timeZone: TestZone.utc)
    }

    func testSkip() {
        XCTAssertEqual(missed(.skip, from: "2026-01-01T00:00:00Z", to: "2026-01-01T05:30:00Z"), [])
    }

    func testFireLatest() {
        XCTAssertEqual(missed(.fireLatest, from: "2026-01-01T00:00:00Z", to: "2026-01-01T05:30:00Z"),
                       [isoDate("2026-01-01T05:00:00Z")])
        XCTAssertEqual(missed(.fireLatest, from: "2026-01-01T00:00:00Z", to: "2026-01-01T06:00:00Z"),
                       [isoDate("2026-01-01T06:00:00Z")], "a fire at exactly now is due")
    }

    func testFireAllWithinWindow() {
        XCTAssertEqual(missed(.fireAll(within: .seconds(3 * 3600)), from: "2026-01-01T00:00:00Z", to: "2026-01-01T05:30:00Z"),
                       ["03", "04", "05"].map { isoDate("2026-01-01T\($0):00:00Z") })
        XCTAssertEqual(missed(.fireAll(within: .seconds(86_400)), from: "2026-01-01T00:00:00Z", to: "2026-01-01T05:30:00Z"),
                       ["01", "02", "03", "04", "05"].map { isoDate("2026-01-01T\($0):00:00Z") })
    }

    func testNothingMissed() {
        for policy in [MissedFirePolicy.skip, .fireLatest, .fireAll(within: .seconds(86_400))] {
            XCTAssertEqual(missed(policy, from: "2026-01-01T05:00:00Z", to: "2026-01-01T05:30:00Z"), [])
            XCTAssertEqual(missed(policy, from: "2026-01-01T06:00:00Z", to: "2026-01-01T05:30:00Z"), [])
        }
    }

    func testFireAllIsBounded() {
        let everySecond = ScheduleTrigger.interval(every: .seconds(1), anchor: nil)
        let fires = missed(.fireAll(within: .seconds(172_800)), everySecond, from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z")
        XCTAssertEqual(fires.count, MissedFirePolicy.maximumFires)
        XCTAssertEqual(fires.first, isoDate("2026-01-01T00:00:01Z"))
        XCTAssertEqual(fires.last, isoDate("2026-01-01T02:46:40Z"))
    }

    func testFireLatestAfterLongOutageOfFrequentFires() throws {
        let everySecond = ScheduleTrigger.interval(every: .seconds(1), anchor: nil)
        XCTAssertEqual(missed(.fireLatest, everySecond, from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00.500Z"),
                       [isoDate("2026-03-01T00:00:00Z")])
        // Dense fires in the morning, none since: the latest is the last morning second.
        let mornings = ScheduleTrigger.cron(try CronExpression("* * 0-11 * * *"))
        XCTAssertEqual(missed(.fireLatest, mornings, from: "2026-01-01T00:00:00Z", to: "2026-01-01T23:00:00Z"),
                       [isoDate("2026-01-01T11:59:59Z")])
    }

    func testOnceMissed() {
        let once = ScheduleTrigger.once(isoDate("2026-01-01T10:00:00Z"))
        XCTAssertEqual(missed(.fireLatest, once, from: "2026-01-01T09:00:00Z", to: "2026-01-01T11:00:00Z"),
                       [isoDate("2026-01-01T10:00:00Z")])
        XCTAssertEqual(missed(.skip, once, from: "2026-01-01T09:00:00Z", to: "2026-01-01T11:00:00Z"), [])
    }
}
