import Foundation

/// What a job store knows about one job: the answer to "where is job X, what did it return, how far is it".
public struct JobStatus: Sendable, Hashable, Codable {
    /// Job id.
    public var id: String
    /// State; ``JobState/unknown`` when the store never saw the id (all other fields then empty).
    public var state: JobState
    /// Job name.
    public var name: String?
    /// Work queue.
    public var queue: String?
    /// Latest attempt recorded (1-based; 0 when unknown).
    public var attempt: Int
    /// Worker of the latest attempt.
    public var worker: String?
    /// Progress fraction 0...1, when the job reported any.
    public var progress: Double?
    /// Progress message.
    public var progressMessage: String?
    /// Result JSON, when the job succeeded and returned one.
    public var result: String?
    /// Last error (`type: message`).
    public var lastError: String?
    /// Dead-letter reason.
    public var deadReason: String?
    /// Unique key the job was enqueued under.
    public var uniqueKey: String?
    /// When it was enqueued.
    public var enqueuedAt: Date?
    /// When it is due.
    public var runAt: Date?
    /// When the latest attempt started.
    public var startedAt: Date?
    /// When it finished.
    public var finishedAt: Date?
    /// When the store last changed this record.
    public var updatedAt: Date?

    /// A status with only an id and state.
    public init(id: String, state: JobState, attempt: Int = 0) {
        self.id = id
        self.state = state
        self.attempt = attempt
    }

    /// The answer for an id the store never saw.
    public static func unknown(_ id: String) -> JobStatus { JobStatus(id: id, state: .unknown) }
}

/// Which jobs ``JobStore/list(_:)`` returns: newest first by last change.
public struct JobQuery: Sendable, Hashable {
    /// Only jobs in this state.
    public var state: JobState?
    /// Only jobs of this work queue.
    public var queue: String?
    /// Only jobs of this name.
    public var name: String?
    /// At most this many (default 50).
    public var limit: Int
    /// Only jobs after this one in the order (the last of the previous page): keyset pagination, so a page
    /// costs the same however deep it is and never reads the rows before it.
    public var after: JobCursor?

    /// Creates a query.
    public init(state: JobState? = nil, queue: String? = nil, name: String? = nil, limit: Int = 50, after: JobCursor? = nil) {
        self.state = state
        self.queue = queue
        self.name = name
        self.limit = max(1, limit)
        self.after = after
    }
}

