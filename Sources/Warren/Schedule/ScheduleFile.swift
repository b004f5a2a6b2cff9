import Foundation
import Yams

/// Reads schedule definitions from a YAML or JSON file (JSON is read as YAML).
///
///     schedules:
///       - name: nightly-report
///         cron: "0 3 * * *"          # exactly one of cron / every / at
///         timezone: Europe/London     # IANA name; UTC if omitted
///         job: report
///         args: {day: yesterday}      # any mapping or list, stored as JSON
///         queue: reports              # "default" if omitted
///         priority: 5                 # 0-255
///         jitter: 10s                 # durations: seconds, or 250ms, 10s, 5m, 2h, 1d
///         expires: 1h
///         missed: latest              # skip | latest | all (all needs missed_window)
///       - name: heartbeat
///         every: 30s
///         job: noop
///       - name: launch
///         at: "2027-01-01T00:00:00Z"
///         job: noop
///
/// Unknown keys, repeated keys, duplicate names, a missing job, two or none of
/// `cron`/`every`/`at`, bad durations, dates, time zones and cron expressions
/// are all rejected with a `ScheduleError` carrying the file, the line of the
/// offending node and the schedule's name.
public struct ScheduleFile: Sendable {
    /// Reads and parses the file at `path`; errors name the file as `path`.
    public static func load(path: String) throws(ScheduleError) -> [ScheduleDefinition] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ScheduleError(.unreadableFile, "cannot read the file: \(error.localizedDescription)", file: path)
        }
        return try parse(text, fileName: path)
    }

    /// Parses schedule definitions from YAML or JSON text; errors name the file as `fileName`.
    /// An empty document, or `schedules:` with no value, holds no schedules.
    public static func parse(_ text: String, fileName: String) throws(ScheduleError) -> [ScheduleDefinition] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, fileName: fileName)
        } catch {
            throw ScheduleError(.syntax, "\(error)", file: fileName)
        }
        guard let root else { return [] }
        return try ScheduleFileReader(file: fileName).definitions(in: root)
    }

    private static func syntaxError(_ error: YamlError, fileName: String) -> ScheduleError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = context.map { " \($0.text)" } ?? ""
            return ScheduleError(.syntax, "invalid YAML: \(problem)\(detail)", file: fileName, line: mark.line)
        default:
            return ScheduleError(.syntax, "invalid YAML: \(error)", file: fileName)
        }
    }
}
