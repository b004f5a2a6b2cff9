import ArgumentParser
import Foundation
import Warren

/// `warren schedule`: check schedule files before deploying them.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Check schedule files: validate them, list their next fire times.",
        subcommands: [List.self, Validate.self])

    /// `warren schedule list FILE`: each schedule's next fire times, in its zone and in UTC.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print each schedule's next fire times.")

        @Argument(help: "Schedule file (YAML or JSON).")
        var file: String

        @Option(help: "Fire times per schedule.")
        var count: Int = 5

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() throws {
            guard count >= 1 else { throw ValidationError("--count must be at least 1") }
            let schedules = try loadOrExit(file)
            let now = Date()
            if json {
                print(jsonListing(schedules, now: now))
                return
            }
            for s in schedules {
                print("\(s.name): \(triggerText(s.trigger)) [\(zoneName(s.timeZone))] -> job \(s.job) on queue \(s.queue)")
                let fires = s.fireTimes(after: now, count: count)
                if fires.isEmpty { print("  (no future fires)") }
                for fire in fires {
                    let utc = isUTC(s.timeZone) ? "" : "   \(format(fire, in: ScheduleDefinition.utc))"
                    print("  \(format(fire, in: s.timeZone))\(utc)")
                }
            }
        }

        private func jsonListing(_ schedules: [ScheduleDefinition], now: Date) -> String {
            struct Entry: Encodable {
                var name, trigger, timezone, job, queue: String
                var next: [String]
            }
            let entries = schedules.map { s in
                Entry(name: s.name, trigger: triggerText(s.trigger), timezone: zoneName(s.timeZone), job: s.job,
                      queue: s.queue, next: s.fireTimes(after: now, count: count).map { format($0, in: s.timeZone) })
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: (try? encoder.encode(entries)) ?? Data("[]".utf8), as: UTF8.self)
        }
    }

    /// `warren schedule validate FILE`: exit 1 with `file:line: reason` if the file is invalid.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a schedule file; print file:line: reason if invalid.")

        @Argument(help: "Schedule file (YAML or JSON).")
        var file: String

        func run() throws {
            let schedules = try loadOrExit(file)
            print("\(file): \(schedules.count) schedule\(schedules.count == 1 ? "" : "s") OK")
        }
    }
}

/// Loads a schedule file, or prints `file:line: reason` to stderr and exits 1.
private func loadOrExit(_ file: String) throws -> [ScheduleDefinition] {
    do {
        return try ScheduleFile.load(path: file)
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        throw ExitCode(1)
    }
}

private func triggerText(_ trigger: ScheduleTrigger) -> String {
    switch trigger {
    case .cron(let expression): return "cron \"\(expression)\""
    case .interval(let every, let anchor):
        return "every \(String(format: "%g", every.seconds))s" + (anchor.map { " from \(format($0, in: ScheduleDefinition.utc))" } ?? "")
    case .once(let date): return "at \(format(date, in: ScheduleDefinition.utc))"
    }
}

/// Foundation on Linux names UTC "GMT"; schedule files say UTC.
private func isUTC(_ zone: TimeZone) -> Bool { zone.identifier == "UTC" || zone.identifier == "GMT" }

private func zoneName(_ zone: TimeZone) -> String { isUTC(zone) ? "UTC" : zone.identifier }

/// `2026-03-08T03:00:00-04:00`, on the wall clock of `zone` (milliseconds shown only when not zero).
private func format(_ date: Date, in zone: TimeZone) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = zone
    let whole = date.timeIntervalSince1970.rounded(.down) == date.timeIntervalSince1970
    formatter.formatOptions = whole ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}
