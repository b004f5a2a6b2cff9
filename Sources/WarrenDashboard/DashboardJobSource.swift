import Foundation

/// Where the jobs, batches, workflows and global-limits pages get their data: implemented by a job store
/// (none is part of Warren yet). Without one, those pages say that no store is configured and the API
/// answers 404 `{"error": "no job store configured"}`.
///
/// Implementations return plain values; the dashboard escapes everything it shows.
public protocol DashboardJobSource: Sendable {
    /// A job, batch or workflow by id; `nil` when unknown.
    func lookup(id: String) async throws -> DashboardJobRecord?
    /// Every global limit with its holders and waiters.
    func limits() async throws -> [DashboardLimit]
}

/// A job, batch or workflow as the store knows it.
public struct DashboardJobRecord: Sendable, Codable, Hashable {
    /// `job`, `batch` or `workflow`.
    public var kind: String
    /// Its id.
    public var id: String
    /// State (e.g. `queued`, `running`, `succeeded`, `failed`).
    public var state: String
    /// Progress 0...1, when known.
    public var progress: Double?
    /// Result, as text (JSON), when finished.
    public var result: String?
    /// Error, when failed.
    public var error: String?
    /// A workflow's steps, each with its state and the ids of the steps it waits for.
    public var steps: [Step]

    /// One workflow step.
    public struct Step: Sendable, Codable, Hashable {
        /// Step id.
        public var id: String
        /// Its state.
        public var state: String
        /// Steps it depends on.
        public var dependsOn: [String]
        /// Creates a step.
        public init(id: String, state: String, dependsOn: [String]) {
            self.id = id
            self.state = state
            self.dependsOn = dependsOn
        }
    }

    /// Creates a record.
    public init(kind: String, id: String, state: String, progress: Double? = nil, result: String? = nil, error: String? = nil, steps: [Step] = []) {
        self.kind = kind
        self.id = id
        self.state = state
        self.progress = progress
        self.result = result
        self.error = error
        self.steps = steps
    }
}

/// A global limit.
public struct DashboardLimit: Sendable, Codable, Hashable {
    /// Limit name.
    public var name: String
    /// Most holders at once.
    public var capacity: Int
    /// Who holds it now.
    public var holders: [String]
    /// How many wait.
    public var waiters: Int
    /// Creates a limit entry.
    public init(name: String, capacity: Int, holders: [String], waiters: Int) {
        self.name = name
        self.capacity = capacity
        self.holders = holders
        self.waiters = waiters
    }
}
