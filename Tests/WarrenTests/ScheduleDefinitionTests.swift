import Foundation
import XCTest
@testable import Warren

final class ScheduleDefinitionTests: XCTestCase {
    func nightly(_ zone: TimeZone = TestZone.utc) throws -> ScheduleDefinition {
        try ScheduleDefinition(name: "nightly", trigger: .cron(CronExpression("0 3 * * *")), timeZone: zone, job: "report")
    }

    func testDefaults() throws {
        let definition = try nightly()
        XCTAssertEqual(definition.timeZone, ScheduleDefinition.utc)
        XCTAssertEqual(definition.timeZone.secondsFromGMT(), 0)
        XCTAssertEqual(definition.arguments, "{}")
        XCTAssertEqual(definition.queue, "default")
        XCTAssertEqual(definition.missedFires, .fireLatest)
        XCTAssertNil(definition.priority)
        XCTAssertNil(definition.jitter)
        XCTAssertNil(definition.expiry)
    }

    func testValidation() {
        let cron = ScheduleTrigger.cron(try! CronExpression("* * * * *"))
        let cases: [(String, ScheduleError.Code, () throws -> ScheduleDefinition)] = [
            ("name must not be empty", .invalidValue, { try ScheduleDefinition(name: " ", trigger: cron, job: "j") }),
            ("job must not be empty", .invalidValue, { try ScheduleDefinition(name: "n", trigger: cron, job: "") }),
            ("queue must not be empty", .invalidValue, { try ScheduleDefinition(name: "n", trigger: cron, job: "j", queue: "") }),
            ("arguments are not valid JSON: {", .invalidArguments,
             { try ScheduleDefinition(name: "n", trigger: cron, job: "j", arguments: "{") }),
            ("priority 256 is out of range 0-255", .invalidValue,
             { try ScheduleDefinition(name: "n", trigger: cron, job: "j", priority: 256) }),
            ("priority -1 is out of range 0-255", .invalidValue,
             { try ScheduleDefinition(name: "n", trigger: cron, job: "j", priority: -1) }),
            ("jitter must be zero or more seconds", .invalidValue,
             { try ScheduleDefinition(name: "n", trigger: cron, job: "j", jitter: .seconds(-1)) }),
            ("expiry must be more than zero seconds", .invalidValue,
             { try ScheduleDefinition(name: "n", trigger: cron, job: "j", expiry: .zero) }),
            ("interval must be more than zero seconds", .invalidValue,
             { try ScheduleDefinition(name: "n", trigger: .interval(every: .zero, anchor: nil), job: "j") }),
            ("missed-fire window must be more than zero seconds", .invalidValue,
             { try ScheduleDefinition(name: "n", trigger: cron, job: "j", missedFires: .fireAll(within: .zero)) }),
        ]
        for (message, code, make) in cases {
            XCTAssertThrowsError(try make(), message) { error in
                XCTAssertEqual((error as? ScheduleError)?.message, message)
                XCTAssertEqual((error as? ScheduleError)?.code, code, message)
            }
        }
        XCTAssertNoThrow(try ScheduleDefinition(name: "n", trigger: cron, job: "j", arguments: "[1, \"a\"]",
                                                priority: 0, jitter: .zero, expiry: .milliseconds(500)))
    }

    func testFireTimesFollowTimeZone() throws {
        let times = try nightly(TestZone.london).fireTimes(after: isoDate("2026-03-28T00:00:00Z"), count: 3)
        XCTAssertEqual(times, [isoDate("2026-03-28T03:00:00Z"), isoDate("2026-03-29T02:00:00Z"), isoDate("2026-03-30T02:00:00Z")])
        let launch = try ScheduleDefinition(name: "launch", trigger: .once(isoDate("2027-01-01T00:00:00Z")), job: "noop")
        XCTAssertEqual(launch.fireTimes(after: isoDate("2026-01-01T00:00:00Z"), count: 5), [isoDate("2027-01-01T00:00:00Z")])
    }

    func testDueFiresUsePolicy() throws {
        let definition = try ScheduleDefinition(name: "n", trigger: .cron(CronExpression("0 * * * *")), job: "j",
                                                missedFires: .fireAll(within: .seconds(7200)))
        XCTAssertEqual(definition.dueFires(after: isoDate("2026-01-01T00:00:00Z"), upTo: isoDate("2026-01-01T05:30:00Z")),
                       [isoDate("2026-01-01T04:00:00Z"), isoDate("2026-01-01T05:00:00Z")])
    }

    func testFireIDIsDeterministic() throws {
        XCTAssertEqual(try nightly().fireID(for: isoDate("2026-03-08T07:00:00Z")), "nightly@2026-03-08T07:00:00.000Z")
        XCTAssertEqual(try nightly().fireID(for: isoDate("2026-03-08T03:00:00-04:00")), "nightly@2026-03-08T07:00:00.000Z")
        XCTAssertEqual(try nightly(TestZone.newYork).fireID(for: isoDate("2026-03-08T07:00:00Z")),
                       try nightly(TestZone.london).fireID(for: isoDate("2026-03-08T07:00:00Z")))
        XCTAssertEqual(try nightly().fireID(for: isoDate("2026-12-31T23:59:59.250Z")), "nightly@2026-12-31T23:59:59.250Z")
        XCTAssertEqual(try nightly().fireID(for: Date(timeIntervalSince1970: -0.5)), "nightly@1969-12-31T23:59:59.500Z")
        XCTAssertEqual(try nightly().fireID(for: Date(timeIntervalSince1970: 1.9996)), "nightly@1970-01-01T00:00:02.000Z")
    }
}

final class DurationTextTests: XCTestCase {
    func testUnits() throws {
        let cases: [(String, Double)] = [("250ms", 0.25), ("10s", 10), ("5m", 300), ("2h", 7200), ("1d", 86_400),
                                         ("1.5", 1.5), ("1.5s", 1.5), (" 3s ", 3), ("0", 0), ("45", 45)]
        for (text, seconds) in cases {
            XCTAssertEqual(try parseDuration(text).seconds, seconds, accuracy: 1e-9, text)
        }
    }

    func testRejects() {
        for text in ["", "abc", "-5s", "5x", "s", "1e3", "inf", "nan", "1..2", "10 minutes", "5 s"] {
            XCTAssertThrowsError(try parseDuration(text), text) { error in
                XCTAssertEqual((error as? ScheduleError)?.code, .invalidDuration, text)
            }
        }
    }
}
