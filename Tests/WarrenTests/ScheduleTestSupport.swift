import Foundation
import XCTest
@testable import Warren

/// Zones and date helpers shared by the schedule tests.
enum TestZone {
    static let utc = TimeZone(identifier: "UTC")!
    static let newYork = TimeZone(identifier: "America/New_York")!
    static let london = TimeZone(identifier: "Europe/London")!
    static let kolkata = TimeZone(identifier: "Asia/Kolkata")!
}

/// Parses `2026-03-08T03:00:00-04:00` (or `...Z`, with optional fractional seconds).
func isoDate(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Date {
    guard let parsed = try? ScheduleFileReader.date(text) else {
        XCTFail("bad test date \(text)", file: file, line: line)
        return Date(timeIntervalSince1970: 0)
    }
    return parsed
}

/// Formats a date on the wall clock of `zone`, with its offset: `2026-03-08T03:00:00-04:00`.
func wallClock(_ date: Date, _ zone: TimeZone) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.calendar = Calendar(identifier: .gregorian)
    formatter.timeZone = zone
    formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx"
    return formatter.string(from: date)
}

/// The next `count` fire times of a cron expression after `start`, formatted with `local`.
func cronFires(_ expression: String, after start: String, in zone: TimeZone = TestZone.utc, count: Int,
           file: StaticString = #filePath, line: UInt = #line) -> [String] {
    do {
        let cron = try CronExpression(expression)
        var result: [String] = []
        var cursor = isoDate(start, file: file, line: line)
        while result.count < count, let next = cron.nextFire(after: cursor, in: zone) {
            XCTAssertGreaterThan(next, cursor, "fire times must be strictly increasing", file: file, line: line)
            result.append(wallClock(next, zone))
            cursor = next
        }
        return result
    } catch {
        XCTFail("\(expression): \(error)", file: file, line: line)
        return []
    }
}
