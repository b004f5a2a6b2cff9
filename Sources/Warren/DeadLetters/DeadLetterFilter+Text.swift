import Foundation

extension DeadLetterFilter {
    /// A time as operators write it: ISO-8601 (`2024-05-01`, `2024-05-01T12:00:00Z`) or an age before `now`
    /// (`30m`, `2h`, `3d`). Throws ``WarrenError/Code/invalidInput`` otherwise.
    public static func time(_ text: String, now: Date = Date()) throws(WarrenError) -> Date {
        let f = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
            f.formatOptions = options
            if let d = f.date(from: text) { return d }
        }
        guard let age = try? parseDuration(text) else {
            throw WarrenError(.invalidInput, "'\(text)' is neither an ISO-8601 time nor an age like 30m, 2h, 3d")
        }
        return now.addingTimeInterval(-age.seconds)
    }

    /// The filter named by text fields, as `warren dlq` options and the dashboard's query parameters give
    /// them: `id`, `job`, `error_type`, `reason` (comma-separated lists), `error` (a case-insensitive regular
    /// expression), `failed_before`, `failed_after` (see ``time(_:now:)``), `min_attempts`, `max_attempts`.
    /// Empty fields are ignored. Throws ``WarrenError/Code/invalidInput`` for a malformed value.
    public init(fields: [String: String], now: Date = Date()) throws(WarrenError) {
        func set(_ key: String) -> Set<String> { Set(BrokerEnvironment.list([fields[key] ?? ""])) }
        func text(_ key: String) -> String? { fields[key].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }
        func int(_ key: String) throws(WarrenError) -> Int? {
            guard let t = text(key) else { return nil }
            guard let v = Int(t) else { throw WarrenError(.invalidInput, "\(key) must be a number, not '\(t)'") }
            return v
        }
        self.init(ids: set("id"), jobs: set("job"), errorTypes: set("error_type"), reasons: set("reason"),
                  errorPattern: text("error"))
        if let t = text("failed_before") { failedBefore = try Self.time(t, now: now) }
        if let t = text("failed_after") { failedAfter = try Self.time(t, now: now) }
        minAttempts = try int("min_attempts")
        maxAttempts = try int("max_attempts")
        try validate()
    }
}
