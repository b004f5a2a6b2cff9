import Foundation
import Yams

/// Walks the YAML nodes of one schedule file, turning them into definitions.
struct ScheduleFileReader {
    let file: String

    static let triggerKeys = ["cron", "every", "at"]
    static let scheduleKeys: Set<String> = Set(triggerKeys + [
        "name", "timezone", "job", "args", "queue", "priority", "jitter", "expires", "missed", "missed_window",
    ])

    func definitions(in root: Node) throws(ScheduleError) -> [ScheduleDefinition] {
        let top = try mapping(root, what: "the file", schedule: nil)
        try rejectRepeatedKeys(top, schedule: nil)
        for entry in top where entry.key != "schedules" {
            throw fail(.unknownKey, "unknown key \"\(entry.key)\" (expected \"schedules\")", at: entry.keyNode)
        }
        guard let list = top.value("schedules") else {
            throw fail(.missingKey, "missing key \"schedules\"", at: root)
        }
        if list.isNull { return [] }
        guard case .sequence(let items) = list else {
            throw fail(.invalidValue, "\"schedules\" must be a list", at: list)
        }
        var definitions: [ScheduleDefinition] = []
        var firstLines: [String: Int] = [:]
        for item in items {
            let (definition, nameNode) = try definition(item)
            if let firstLine = firstLines[definition.name] {
                throw fail(.duplicateName, "duplicate schedule name (first defined on line \(firstLine))",
                           at: nameNode, schedule: definition.name)
            }
            firstLines[definition.name] = nameNode.mark?.line ?? 0
            definitions.append(definition)
        }
        return definitions
    }

    private func definition(_ node: Node) throws(ScheduleError) -> (ScheduleDefinition, nameNode: Node) {
        let fields = try mapping(node, what: "a schedule", schedule: nil)
        guard let nameNode = fields.value("name") else {
            throw fail(.missingKey, "schedule is missing key \"name\"", at: node)
        }
        let name = try string(nameNode, "name", schedule: nil)
        try located(nameNode, name) { () throws(ScheduleError) in try ScheduleDefinition.Validate.notEmpty(name, "name") }
        try rejectRepeatedKeys(fields, schedule: name)
        for entry in fields where !Self.scheduleKeys.contains(entry.key) {
            throw fail(.unknownKey, "unknown key \"\(entry.key)\"", at: entry.keyNode, schedule: name)
        }
        let given = fields.filter { Self.triggerKeys.contains($0.key) }
        guard let triggerEntry = given.first else {
            throw fail(.missingTrigger, "needs one of cron, every or at", at: node, schedule: name)
        }
        if given.count > 1 {
            throw fail(.conflictingTriggers,
                       "only one of cron, every and at may be given, found \(given.map(\.key).joined(separator: " and "))",
                       at: given[1].keyNode, schedule: name)
        }
        guard fields.value("job") != nil else {
            throw fail(.missingKey, "missing key \"job\"", at: node, schedule: name)
        }

        // Each value is read and checked where it stands, so errors carry its line.
        func read<T>(_ key: String, _ body: (Node) throws(ScheduleError) -> T) throws(ScheduleError) -> T? {
            guard let value = fields.value(key) else { return nil }
            return try located(value, name) { () throws(ScheduleError) in try body(value) }
        }
        let trigger = try located(triggerEntry.value, name) { () throws(ScheduleError) -> ScheduleTrigger in
            let trigger = try self.trigger(triggerEntry.key, triggerEntry.value, schedule: name)
            try ScheduleDefinition.Validate.trigger(trigger)
            return trigger
        }
        let job = try read("job") { (value) throws(ScheduleError) -> String in
            let job = try string(value, "job", schedule: name)
            try ScheduleDefinition.Validate.notEmpty(job, "job")
            return job
        } ?? ""
        let timeZone = try read("timezone") { (value) throws(ScheduleError) -> TimeZone in
            let identifier = try string(value, "timezone", schedule: name)
            guard let zone = TimeZone(identifier: identifier) else {
                throw ScheduleError(.invalidTimeZone, "unknown time zone \"\(identifier)\" (use an IANA name such as Europe/London)")
            }
            return zone
        } ?? ScheduleDefinition.utc
        let arguments = try read("args") { (value) throws(ScheduleError) -> String in
            guard value.mapping != nil || value.sequence != nil else {
                throw ScheduleError(.invalidArguments, "args must be a mapping or a list")
            }
            return try JSONText.from(value)
        } ?? "{}"
        let queue = try read("queue") { (value) throws(ScheduleError) -> String in
            let queue = try string(value, "queue", schedule: name)
            try ScheduleDefinition.Validate.notEmpty(queue, "queue")
            return queue
        } ?? "default"
        let priority = try read("priority") { (value) throws(ScheduleError) -> Int in
            guard value.isPlain, let priority = value.int else {
                throw ScheduleError(.invalidValue, "priority must be an integer 0-255")
            }
            try ScheduleDefinition.Validate.priority(priority)
            return priority
        }
        let jitter = try read("jitter") { (value) throws(ScheduleError) -> Duration in
            let jitter = try duration(value, "jitter")
            try ScheduleDefinition.Validate.jitter(jitter)
            return jitter
        }
        let expiry = try read("expires") { (value) throws(ScheduleError) -> Duration in
            let expiry = try duration(value, "expires")
            try ScheduleDefinition.Validate.expiry(expiry)
            return expiry
        }
        let window = try read("missed_window") { (value) throws(ScheduleError) in try duration(value, "missed_window") }
        let missed = try read("missed") { (value) throws(ScheduleError) -> MissedFirePolicy in
            switch try string(value, "missed", schedule: name) {
            case "skip": return .skip
            case "latest": return .fireLatest
            case "all":
                guard let window else {
                    throw ScheduleError(.missingKey, "missed: all needs missed_window (how far back to catch up)")
                }
                let policy = MissedFirePolicy.fireAll(within: window)
                try ScheduleDefinition.Validate.missedFires(policy)
                return policy
            case let other:
                throw ScheduleError(.invalidValue, "missed must be skip, latest or all, not \"\(other)\"")
            }
        } ?? .fireLatest
        let catchesUp = if case .fireAll = missed { true } else { false }
        if !catchesUp, let windowNode = fields.value("missed_window") {
            throw fail(.invalidValue, "missed_window applies only to missed: all", at: windowNode, schedule: name)
        }
        let definition = try located(node, name) { () throws(ScheduleError) in
            try ScheduleDefinition(name: name, trigger: trigger, timeZone: timeZone, job: job, arguments: arguments,
                                   queue: queue, priority: priority, jitter: jitter, expiry: expiry,
                                   missedFires: missed)
        }
        return (definition, nameNode)
    }

    private func trigger(_ key: String, _ value: Node, schedule: String) throws(ScheduleError) -> ScheduleTrigger {
        switch key {
        case "cron":
            let text = try string(value, key, schedule: schedule)
            do {
                return .cron(try CronExpression(text))
            } catch {
                throw error.located(file: file, line: value.mark?.line, schedule: schedule, context: "cron")
            }
        case "every":
            return .interval(every: try duration(value, key), anchor: nil)
        default:
            return .once(try Self.date(try string(value, key, schedule: schedule)))
        }
    }

    /// An ISO-8601 date-time with a zone, with or without fractional seconds.
    static func date(_ text: String) throws(ScheduleError) -> Date {
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        throw ScheduleError(.invalidDate,
                            "\"\(text)\" is not an ISO-8601 date-time with a zone, e.g. 2027-01-01T00:00:00Z")
    }

    /// A duration: a plain number of seconds, or text for `parseDuration`.
    private func duration(_ value: Node, _ key: String) throws(ScheduleError) -> Duration {
        if value.isPlain, let seconds = value.float, value.tag.description != Tag.Name.str.rawValue {
            guard seconds >= 0, seconds.isFinite else {
                throw ScheduleError(.invalidDuration, "\(key) must not be negative")
            }
            return try durationFromSeconds(seconds, "\(seconds)")
        }
        guard case .scalar(let scalar) = value else {
            throw ScheduleError(.invalidDuration, "\(key) must be a duration such as 10s")
        }
        return try parseDuration(scalar.string)
    }

    private func string(_ node: Node, _ key: String, schedule: String?) throws(ScheduleError) -> String {
        guard case .scalar(let scalar) = node, !node.isNull else {
            throw fail(.invalidValue, "\(key) must be a string", at: node, schedule: schedule)
        }
        return scalar.string
    }

    /// The entries of a mapping node, rejecting non-scalar keys.
    private func mapping(_ node: Node, what: String, schedule: String?) throws(ScheduleError) -> [Entry] {
        guard case .mapping(let mapping) = node else {
            throw fail(.invalidValue, "\(what) must be a mapping", at: node, schedule: schedule)
        }
        var entries: [Entry] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                throw fail(.invalidValue, "keys must be strings", at: key, schedule: schedule)
            }
            entries.append(Entry(key: scalar.string, keyNode: key, value: value))
        }
        return entries
    }

    /// Rejects a key given twice in one mapping.
    private func rejectRepeatedKeys(_ entries: [Entry], schedule: String?) throws(ScheduleError) {
        var seen: Set<String> = []
        for entry in entries where !seen.insert(entry.key).inserted {
            throw fail(.duplicateKey, "key \"\(entry.key)\" is given twice", at: entry.keyNode, schedule: schedule)
        }
    }

    private func located<T>(_ node: Node, _ schedule: String?,
                            _ body: () throws(ScheduleError) -> T) throws(ScheduleError) -> T {
        do {
            return try body()
        } catch {
            throw error.located(file: file, line: node.mark?.line, schedule: schedule)
        }
    }

    private func fail(_ code: ScheduleError.Code, _ message: String, at node: Node, schedule: String? = nil) -> ScheduleError {
        ScheduleError(code, message, file: file, line: node.mark?.line, schedule: schedule)
    }

    /// One key-value pair of a mapping, with the key's node for its line.
    struct Entry {
        let key: String
        let keyNode: Node
        let value: Node
    }
}

fileprivate extension [ScheduleFileReader.Entry] {
    func value(_ key: String) -> Node? {
        first { $0.key == key }?.value
    }
}

fileprivate extension Node {
    /// A scalar written without quotes (so YAML's type rules apply).
    var isPlain: Bool {
        guard case .scalar(let scalar) = self else { return false }
        return scalar.style == .plain || scalar.style == .any
    }

    /// A plain `null`, `~` or empty scalar.
    var isNull: Bool {
        isPlain && tag.description == Tag.Name.null.rawValue
    }
}
