import Foundation

/// One write of a job's state, as a job store's writer batches it. Fields left `nil` keep what the store
/// holds; ``state`` and ``attempt`` replace it only by the rule of ``JobState/replaces(_:attempt:storedAttempt:)``.
public struct JobUpdate: Sendable, Hashable {
    /// Job id.
    public var id: String
    /// New state.
    public var state: JobState
    /// Attempt the write is about (1-based).
    public var attempt: Int
    /// When this was observed.
    public var at: Date
    /// Job name.
    public var name: String?
    /// Work queue.
    public var queue: String?
    /// Worker that runs the attempt (host and process).
    public var worker: String?
    /// When it was enqueued.
    public var enqueuedAt: Date?
    /// When it is due (delayed jobs).
    public var runAt: Date?
    /// When the attempt started.
    public var startedAt: Date?
    /// When the job finished (succeeded or dead).
    public var finishedAt: Date?
    /// Progress fraction 0...1.
    public var progress: Double?
    /// Progress message.
    public var progressMessage: String?
    /// Result JSON (succeeded jobs).
    public var result: String?
    /// Last error (`type: message`).
    public var lastError: String?
    /// Dead-letter reason.
    public var deadReason: String?
    /// The unique key the job holds, if enqueued as unique.
    public var uniqueKey: String?

    /// A write of `state` at `attempt` for job `id`, observed at `at`.
    public init(id: String, state: JobState, attempt: Int, at: Date = Date()) {
        self.id = id
        self.state = state
        self.attempt = attempt
        self.at = at
    }

    /// This update followed by `later` for the same job, as the store would hold them: the state of the
    /// higher `(attempt, rank)` (the later one on a tie), each other field from the later write when it has
    /// one. Lets a writer send one row per job per batch.
    public func merged(with later: JobUpdate) -> JobUpdate {
        let laterWins = later.state.replaces(state, attempt: later.attempt, storedAttempt: attempt)
        var m = laterWins ? later : self
        let o = laterWins ? self : later
        m.at = max(at, later.at)
        // Each field spelled out: key paths here cost a lookup per field per row of every group commit.
        if m.name == nil { m.name = o.name }
        if m.queue == nil { m.queue = o.queue }
        if m.worker == nil { m.worker = o.worker }
        if m.progressMessage == nil { m.progressMessage = o.progressMessage }
        if m.result == nil { m.result = o.result }
        if m.lastError == nil { m.lastError = o.lastError }
        if m.deadReason == nil { m.deadReason = o.deadReason }
        if m.uniqueKey == nil { m.uniqueKey = o.uniqueKey }
        if m.enqueuedAt == nil { m.enqueuedAt = o.enqueuedAt }
        if m.runAt == nil { m.runAt = o.runAt }
        if m.startedAt == nil { m.startedAt = o.startedAt }
        if m.finishedAt == nil { m.finishedAt = o.finishedAt }
        if m.progress == nil { m.progress = o.progress }
        return m
    }

    /// `updates` with one per job (merged in order), sorted by job id: the order concurrent commits lock
    /// rows in, so they wait for each other and never deadlock. Sorts positions, not the (large) updates,
    /// and needs no table of ids: a job's updates end up side by side, in order.
    public static func coalesce(_ updates: [JobUpdate]) -> [JobUpdate] {
        let order = updates.indices.sorted { i, j in
            let (a, b) = (updates[i].id, updates[j].id)
            return a == b ? i < j : a < b
        }
        var out: [JobUpdate] = []
        out.reserveCapacity(updates.count)
        for i in order {
            if let last = out.indices.last, out[last].id == updates[i].id {
                out[last] = out[last].merged(with: updates[i])
            } else {
                out.append(updates[i])
            }
        }
        return out
    }
}
