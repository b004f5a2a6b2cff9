import Foundation

/// An error raised while parsing or validating a schedule: a cron expression,
/// a duration, a schedule definition or a schedule file.
///
/// The `message` names what was wrong and why (for a cron field: the field,
/// the token and the reason). Errors raised while reading a schedule file also
/// carry the file, the 1-based line of the offending YAML node and the name of
/// the schedule, and `description` renders them compiler-style:
///
///     schedules.yaml:7: schedule "nightly": cron minute field: 61 is out of range 0-59
public struct ScheduleError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// What kind of problem was found.
    public enum Code: String, Sendable, Hashable {
        /// A cron expression has the wrong number of fields.
        case cronFieldCount
        /// A cron expression starts with `@` but is not a known alias.
        case cronUnknownAlias
        /// A cron field holds a token that is neither a number nor a known name.
        case cronInvalidToken
        /// A cron field value lies outside the field's range.
        case cronOutOfRange
        /// A cron step (`/n`) is not a positive integer.
        case cronInvalidStep
        /// A cron range (`a-b`) runs backwards.
        case cronInvalidRange
        /// A duration is not a non-negative number with an optional unit.
        case invalidDuration
        /// A time zone is not a known IANA identifier.
        case invalidTimeZone
        /// A date is not ISO-8601.
        case invalidDate
        /// A value is out of range or of the wrong type.
        case invalidValue
        /// The arguments of a schedule are not valid JSON.
        case invalidArguments
        /// A schedule file could not be read.
        case unreadableFile
        /// A schedule file is not well-formed YAML or JSON.
        case syntax
        /// A schedule file has a key it does not know.
        case unknownKey
        /// A schedule file lacks a required key.
        case missingKey
        /// Two schedules share a name.
        case duplicateName
        /// A mapping repeats a key.
        case duplicateKey
        /// A schedule has more than one of `cron`, `every` and `at`.
        case conflictingTriggers
        /// A schedule has none of `cron`, `every` and `at`.
        case missingTrigger
    }

    /// What kind of problem was found.
    public var code: Code
    /// Why the input was rejected, without the location prefix.
    public var message: String
    /// The schedule file the error was found in, if any.
    public var file: String?
    /// The 1-based line of the offending node in `file`, if known.
    public var line: Int?
    /// The name of the schedule the error belongs to, if known.
    public var schedule: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil, schedule: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.schedule = schedule
    }

    /// The error as `file:line: schedule "name": message`, leaving out unknown parts.
    public var description: String {
        var prefix = ""
        if let file {
            prefix += line.map { "\(file):\($0): " } ?? "\(file): "
        } else if let line {
            prefix += "line \(line): "
        }
        if let schedule {
            prefix += "schedule \"\(schedule)\": "
        }
        return prefix + message
    }

    /// Same as `description`.
    public var errorDescription: String? { description }

    /// A copy of this error located in a file, keeping any location already set.
    func located(file: String, line: Int?, schedule: String?, context: String? = nil) -> ScheduleError {
        var copy = self
        copy.file = copy.file ?? file
        copy.line = copy.line ?? line
        copy.schedule = copy.schedule ?? schedule
        if let context {
            copy.message = "\(context) \(copy.message)"
        }
        return copy
    }
}
