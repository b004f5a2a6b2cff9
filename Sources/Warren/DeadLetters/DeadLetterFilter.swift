import Foundation

/// Which dead letters an operation applies to. Every set criterion must hold; an empty filter selects all.
public struct DeadLetterFilter: Sendable, Hashable {
    /// Job ids (`message_id`); empty: any.
    public var ids: Set<String>
    /// Job names; empty: any.
    public var jobs: Set<String>
    /// Error types (exact); empty: any.
    public var errorTypes: Set<String>
    /// Dead-letter reasons (``DeadLetterReason`` raw values; for letters the broker dead-lettered, `broker` or its
    /// own reason such as `expired`, see ``DeadLetter/hasReason(_:)``); empty: any.
    public var reasons: Set<String>
    /// Regular expression (case-insensitive) searched in the error type and message.
    public var errorPattern: String?
    /// Failed before this time.
    public var failedBefore: Date?
    /// Failed at or after this time.
    public var failedAfter: Date?
    /// At least this many attempts.
    public var minAttempts: Int?
    /// At most this many attempts.
    public var maxAttempts: Int?

    /// Creates a filter; everything defaults to "any".
    public init(ids: Set<String> = [], jobs: Set<String> = [], errorTypes: Set<String> = [], reasons: Set<String> = [],
                errorPattern: String? = nil, failedBefore: Date? = nil, failedAfter: Date? = nil,
                minAttempts: Int? = nil, maxAttempts: Int? = nil) {
        self.ids = ids
        self.jobs = jobs
        self.errorTypes = errorTypes
        self.reasons = reasons
        self.errorPattern = errorPattern
        self.failedBefore = failedBefore
        self.failedAfter = failedAfter
        self.minAttempts = minAttempts
        self.maxAttempts = maxAttempts
    }

    /// Selects every message.
    public static let all = DeadLetterFilter()

    /// Whether no criterion is set.
    public var isEmpty: Bool { self == .all }

    /// Checks that the pattern compiles.
    public func validate() throws(WarrenError) {
        guard let errorPattern else { return }
        if (try? NSRegularExpression(pattern: errorPattern, options: [.caseInsensitive])) == nil {
            throw WarrenError(.invalidInput, "error pattern is not a valid regular expression: \(errorPattern)")
        }
    }

    /// Whether `letter` is selected.
    public func matches(_ letter: DeadLetter) -> Bool {
        if !ids.isEmpty, !ids.contains(letter.id) { return false }
        if !jobs.isEmpty, !jobs.contains(letter.job) { return false }
        if !errorTypes.isEmpty, !errorTypes.contains(letter.errorType ?? "") { return false }
        if !reasons.isEmpty, !reasons.contains(where: letter.hasReason) { return false }
        if let minAttempts, letter.attempts < minAttempts { return false }
        if let maxAttempts, letter.attempts > maxAttempts { return false }
        if failedBefore != nil || failedAfter != nil {
            guard let at = letter.failedAt else { return false }
            if let failedBefore, at >= failedBefore { return false }
            if let failedAfter, at < failedAfter { return false }
        }
        if let errorPattern {
            let text = "\(letter.errorType ?? "")\n\(letter.errorMessage ?? "")"
            if text.range(of: errorPattern, options: [.regularExpression, .caseInsensitive]) == nil { return false }
        }
        return true
    }
}
