import Foundation

/// A named, validated schedule: which job to publish, where, and when.
public struct ScheduleDefinition: Sendable, Hashable {
    /// Unique, non-empty name; also the prefix of every fire's message id.
    public let name: String
    /// When the schedule fires.
    public let trigger: ScheduleTrigger
    /// The zone whose wall clock cron fields are read in (UTC by default).
    public let timeZone: TimeZone
    /// The name of the job to run.
    public let job: String
    /// The job's arguments as JSON text (`"{}"` by default).
    public let arguments: String
    /// The queue the job is published to (`"default"` by default).
    public let queue: String
    /// Message priority, 0-255, or `nil` for the queue's default.
    public let priority: Int?
    /// Up to this many seconds of random delay added to each fire, or `nil`.
    public let jitter: Duration?
    /// How long after its fire time a job is still worth running, in seconds, or `nil` for ever.
    public let expiry: Duration?
    /// What to do about fires missed while no scheduler ran.
    public let missedFires: MissedFirePolicy

    /// UTC, the default time zone of a schedule.
    public static let utc = TimeZone(identifier: "UTC")!

    /// Creates and validates a schedule.
    ///
    /// - Throws: `ScheduleError` (`.invalidValue` or `.invalidArguments`) when
    ///   the name, job or queue is empty, the arguments are not valid JSON, the
    ///   priority is outside 0-255, the jitter is negative, the expiry, an
    ///   interval or a catch-up window is not positive.
    public init(name: String, trigger: ScheduleTrigger, timeZone: TimeZone = ScheduleDefinition.utc,
                job: String, arguments: String = "{}", queue: String = "default",
                priority: Int? = nil, jitter: Duration? = nil, expiry: Duration? = nil,
                missedFires: MissedFirePolicy = .fireLatest) throws(ScheduleError) {
        try Validate.notEmpty(name, "name")
        try Validate.notEmpty(job, "job")
        try Validate.notEmpty(queue, "queue")
        try Validate.arguments(arguments)
        try Validate.trigger(trigger)
        try priority.map(Validate.priority)
        try jitter.map(Validate.jitter)
        try expiry.map(Validate.expiry)
        try Validate.missedFires(missedFires)
        self.name = name
        self.trigger = trigger
        self.timeZone = timeZone
        self.job = job
        self.arguments = arguments
        self.queue = queue
        self.priority = priority
        self.jitter = jitter
        self.expiry = expiry
        self.missedFires = missedFires
    }

    /// The next `count` fire times after `date`, fewer if the trigger runs out.
    public func fireTimes(after date: Date, count: Int) -> [Date] {
        var result: [Date] = []
        var cursor = date
        while result.count < count, let fire = nextFire(after: cursor) {
            result.append(fire)
            cursor = fire
        }
        return result
    }

    /// The first fire time strictly after `date`.
    public func nextFire(after date: Date) -> Date? {
        trigger.nextFire(after: date, in: timeZone)
    }

    /// The fires missed in `lastFired <.. now` that should be published now,
    /// per `missedFires`.
    public func dueFires(after lastFired: Date, upTo now: Date) -> [Date] {
        missedFires.fires(missedBetween: lastFired, and: now, trigger: trigger, timeZone: timeZone)
    }

    /// A deterministic message id for one fire, `"<name>@<fire time>"` with the
    /// time as ISO-8601 UTC with milliseconds (`nightly@2026-03-08T07:00:00.000Z`),
    /// so every replica publishing the same fire produces the same id.
    public func fireID(for fire: Date) -> String {
        let milliseconds = Int((fire.timeIntervalSince1970 * 1000).rounded())
        let seconds = CivilTime.floorDivide(milliseconds, 1000)
        let t = CivilTime(wallSeconds: seconds)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let date = "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))"
        let time = "\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2)).\(pad(milliseconds - seconds * 1000, 3))"
        return "\(name)@\(date)T\(time)Z"
    }

    /// The checks `init` makes, one per field, also run by `ScheduleFile` as
    /// it reads each field so that an error points at that field's line.
    enum Validate {
        static func notEmpty(_ value: String, _ field: String) throws(ScheduleError) {
            try require(!value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(field) must not be empty")
        }

        static func arguments(_ json: String) throws(ScheduleError) {
            let parsed = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
            try require(parsed != nil, "arguments are not valid JSON: \(json)", .invalidArguments)
        }

        static func trigger(_ trigger: ScheduleTrigger) throws(ScheduleError) {
            if case .interval(let every, _) = trigger {
                try require(every > .zero, "interval must be more than zero seconds")
            }
        }

        static func priority(_ priority: Int) throws(ScheduleError) {
            try require((0...255).contains(priority), "priority \(priority) is out of range 0-255")
        }

        static func jitter(_ jitter: Duration) throws(ScheduleError) {
            try require(jitter >= .zero, "jitter must be zero or more seconds")
        }

        static func expiry(_ expiry: Duration) throws(ScheduleError) {
            try require(expiry > .zero, "expiry must be more than zero seconds")
        }

        static func missedFires(_ policy: MissedFirePolicy) throws(ScheduleError) {
            if case .fireAll(let window) = policy {
                try require(window > .zero, "missed-fire window must be more than zero seconds")
            }
        }

        private static func require(_ condition: Bool, _ message: String,
                                    _ code: ScheduleError.Code = .invalidValue) throws(ScheduleError) {
            if !condition { throw ScheduleError(code, message) }
        }
    }
}
