import Foundation
import XCTest
@testable import Warren

final class ScheduleFileTests: XCTestCase {
    static let sampleYAML = """
        schedules:
          - name: nightly-report
            cron: "0 3 * * *"          # exactly one of cron / every / at
            timezone: Europe/London
            job: report
            args: {day: yesterday}
            queue: reports
            priority: 5
            jitter: 10s
            expires: 1h
            missed: latest
          - name: heartbeat
            every: 30s
            job: noop
          - name: launch
            at: "2027-01-01T00:00:00Z"
            job: noop
        """

    static let sampleJSON = """
        {"schedules": [
          {"name": "nightly-report", "cron": "0 3 * * *", "timezone": "Europe/London", "job": "report",
           "args": {"day": "yesterday"}, "queue": "reports", "priority": 5, "jitter": "10s", "expires": 3600,
           "missed": "latest"},
          {"name": "heartbeat", "every": 30, "job": "noop"},
          {"name": "launch", "at": "2027-01-01T00:00:00Z", "job": "noop"}
        ]}
        """

    func testParsesYAML() throws {
        let definitions = try ScheduleFile.parse(Self.sampleYAML, fileName: "schedules.yaml")
        XCTAssertEqual(definitions.map(\.name), ["nightly-report", "heartbeat", "launch"])
        let nightly = definitions[0]
        XCTAssertEqual(nightly.trigger, .cron(try CronExpression("0 3 * * *")))
        XCTAssertEqual(nightly.timeZone.identifier, "Europe/London")
        XCTAssertEqual(nightly.job, "report")
        XCTAssertEqual(nightly.arguments, #"{"day":"yesterday"}"#)
        XCTAssertEqual(nightly.queue, "reports")
        XCTAssertEqual(nightly.priority, 5)
        XCTAssertEqual(nightly.jitter, .seconds(10))
        XCTAssertEqual(nightly.expiry, .seconds(3600))
        XCTAssertEqual(nightly.missedFires, .fireLatest)
        let heartbeat = definitions[1]
        XCTAssertEqual(heartbeat.trigger, .interval(every: .seconds(30), anchor: nil))
        XCTAssertEqual(heartbeat.timeZone, ScheduleDefinition.utc)
        XCTAssertEqual(heartbeat.arguments, "{}")
        XCTAssertEqual(heartbeat.queue, "default")
        XCTAssertEqual(definitions[2].trigger, .once(isoDate("2027-01-01T00:00:00Z")))
    }

    func testJSONMatchesYAML() throws {
        XCTAssertEqual(try ScheduleFile.parse(Self.sampleJSON, fileName: "schedules.json"),
                       try ScheduleFile.parse(Self.sampleYAML, fileName: "schedules.yaml"))
    }

    func testArgumentsBecomeJSON() throws {
        let yaml = """
            schedules:
              - name: a
                every: 250ms
                job: j
                args: {n: 1, f: 1.5, ok: true, none: null, s: "2", list: [1, "a\\"b"], nested: {k: v}}
                missed: all
                missed_window: 6h
            """
        let definition = try XCTUnwrap(try ScheduleFile.parse(yaml, fileName: "s.yaml").first)
        XCTAssertEqual(definition.arguments,
                       #"{"n":1,"f":1.5,"ok":true,"none":null,"s":"2","list":[1,"a\"b"],"nested":{"k":"v"}}"#)
        XCTAssertEqual(definition.trigger, .interval(every: .milliseconds(250), anchor: nil))
        XCTAssertEqual(definition.missedFires, .fireAll(within: .seconds(21_600)))
    }

    func testEmptyFiles() throws {
        XCTAssertEqual(try ScheduleFile.parse("", fileName: "s.yaml"), [])
        XCTAssertEqual(try ScheduleFile.parse("schedules: []", fileName: "s.yaml"), [])
        XCTAssertEqual(try ScheduleFile.parse("schedules:\n", fileName: "s.yaml"), [])
    }

    func testLoadFromDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warren-schedules-\(UUID()).yaml").path
        try Self.sampleYAML.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try ScheduleFile.load(path: path).count, 3)
        XCTAssertThrowsError(try ScheduleFile.load(path: path + ".missing")) { error in
            XCTAssertEqual((error as? ScheduleError)?.code, .unreadableFile)
            XCTAssertEqual((error as? ScheduleError)?.file, path + ".missing")
        }
    }

    /// Parses `yaml` as `schedules.yaml` and returns the error it must raise.
    func error(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> ScheduleError? {
        do {
            _ = try ScheduleFile.parse(yaml, fileName: "schedules.yaml")
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testBadCronNamesFileLineScheduleAndField() {
        let failure = error("""
            schedules:
              - name: ok
                cron: "0 3 * * *"
                job: report
              - name: nightly
                job: report
                cron: "61 3 * * *"
            """)
        XCTAssertEqual(failure?.description, #"schedules.yaml:7: schedule "nightly": cron minute field: 61 is out of range 0-59"#)
        XCTAssertEqual(failure?.code, .cronOutOfRange)
        XCTAssertEqual(failure?.line, 7)
        XCTAssertEqual(failure?.schedule, "nightly")
        XCTAssertEqual(failure?.file, "schedules.yaml")
    }

    func testValidationErrorsCarryLines() {
        let schedule = "schedules:\n  - name: a\n"
        let cases: [(String, ScheduleError.Code, String)] = [
            (schedule + "    cron: \"* * * * *\"\n    job: x\n    colour: red\n", .unknownKey,
             #"schedules.yaml:5: schedule "a": unknown key "colour""#),
            (schedule + "    every: 10s\n", .missingKey,
             #"schedules.yaml:2: schedule "a": missing key "job""#),
            (schedule + "    every: 10 minutes\n    job: x\n", .invalidDuration,
             #"schedules.yaml:3: schedule "a": "10 minutes" is not a duration (use seconds, or a number with ms, s, m, h or d, e.g. 250ms, 10s, 5m)"#),
            (schedule + "    every: 10s\n    job: x\n    jitter: 5x\n", .invalidDuration,
             #"schedules.yaml:5: schedule "a": "5x" is not a duration (use seconds, or a number with ms, s, m, h or d, e.g. 250ms, 10s, 5m)"#),
            (schedule + "    every: 0\n    job: x\n", .invalidValue,
             #"schedules.yaml:3: schedule "a": interval must be more than zero seconds"#),
            (schedule + "    every: 10s\n    job: x\n    timezone: Mars/Olympus\n", .invalidTimeZone,
             #"schedules.yaml:5: schedule "a": unknown time zone "Mars/Olympus" (use an IANA name such as Europe/London)"#),
            (schedule + "    cron: \"* * * * *\"\n    every: 10s\n    job: x\n", .conflictingTriggers,
             #"schedules.yaml:4: schedule "a": only one of cron, every and at may be given, found cron and every"#),
            (schedule + "    job: x\n", .missingTrigger,
             #"schedules.yaml:2: schedule "a": needs one of cron, every or at"#),
            (schedule + "    at: tomorrow\n    job: x\n", .invalidDate,
             #"schedules.yaml:3: schedule "a": "tomorrow" is not an ISO-8601 date-time with a zone, e.g. 2027-01-01T00:00:00Z"#),
            (schedule + "    every: 1s\n    job: x\n    priority: 300\n", .invalidValue,
             #"schedules.yaml:5: schedule "a": priority 300 is out of range 0-255"#),
            (schedule + "    every: 1s\n    job: x\n    priority: \"5\"\n", .invalidValue,
             #"schedules.yaml:5: schedule "a": priority must be an integer 0-255"#),
            (schedule + "    every: 1s\n    job: x\n    expires: 0\n", .invalidValue,
             #"schedules.yaml:5: schedule "a": expiry must be more than zero seconds"#),
            (schedule + "    every: 1s\n    job: x\n    missed: all\n", .missingKey,
             #"schedules.yaml:5: schedule "a": missed: all needs missed_window (how far back to catch up)"#),
            (schedule + "    every: 1s\n    job: x\n    missed: sometimes\n", .invalidValue,
             #"schedules.yaml:5: schedule "a": missed must be skip, latest or all, not "sometimes""#),
            (schedule + "    every: 1s\n    job: x\n    missed: latest\n    missed_window: 1h\n", .invalidValue,
             #"schedules.yaml:6: schedule "a": missed_window applies only to missed: all"#),
            (schedule + "    every: 1s\n    job: x\n    args: hello\n", .invalidArguments,
             #"schedules.yaml:5: schedule "a": args must be a mapping or a list"#),
            (schedule + "    every: 1s\n    job: \"\"\n", .invalidValue,
             #"schedules.yaml:4: schedule "a": job must not be empty"#),
            (schedule + "    every: 1s\n    job: x\n    job: y\n", .duplicateKey,
             #"schedules.yaml:5: schedule "a": key "job" is given twice"#),
            (schedule + "    every: 1s\n    job: x\n  - name: b\n    every: 1s\n    job: x\n  - name: a\n    every: 2s\n    job: y\n",
             .duplicateName, #"schedules.yaml:8: schedule "a": duplicate schedule name (first defined on line 2)"#),
            ("schedules:\n  - job: x\n    every: 1s\n", .missingKey, #"schedules.yaml:2: schedule is missing key "name""#),
            ("version: 1\nschedules: []\n", .unknownKey, #"schedules.yaml:1: unknown key "version" (expected "schedules")"#),
            ("schedules: {a: 1}\n", .invalidValue, #"schedules.yaml:1: "schedules" must be a list"#),
            ("schedules:\n  - just-a-string\n", .invalidValue, #"schedules.yaml:2: a schedule must be a mapping"#),
        ]
        for (yaml, code, description) in cases {
            let failure = error(yaml)
            XCTAssertEqual(failure?.description, description, yaml)
            XCTAssertEqual(failure?.code, code, yaml)
        }
    }

    func testJSONErrorsCarryLines() {
        let failure = error("""
            {"schedules": [
              {"name": "a",
               "cron": "0 0 * * 8",
               "job": "x"}
            ]}
            """)
        XCTAssertEqual(failure?.description, #"schedules.yaml:3: schedule "a": cron day-of-week field: 8 is out of range 0-7"#)
    }

    func testSyntaxErrorCarriesLine() {
        let failure = error("schedules:\n  - name: a\n    job: [x\n    cron: \"* * * * *\"\n")
        XCTAssertEqual(failure?.code, .syntax)
        XCTAssertNotNil(failure?.line)
        XCTAssertTrue(failure?.description.hasPrefix("schedules.yaml:") ?? false, failure?.description ?? "")
    }
}
