import Foundation

/// A batch as an operator sees it (`warren workflow show`, the dashboard's batches pages): whether it is
/// sealed, its children by outcome, each callback and whether it was enqueued, its parent when nested, and
/// when it was created and finished. Read through a store's ``BatchCatalog``; a batch id the store never
/// saw (or swept) is ``State/unknown``, with every count 0.
public struct BatchView: Sendable, Hashable, Codable {
    /// Where a batch is.
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        /// The store has no batch with this id (never opened there, or swept after its retention).
        case unknown
        /// The opener has not sealed it yet: more children may come, no `complete` or `success` is due.
        case open
        /// Sealed, some children still pending.
        case running
        /// Sealed and every child finished (``FanIn/isComplete(_:)``).
        case complete
    }

    /// Where one callback is.
    public enum CallbackState: String, Sendable, Hashable, Codable {
        /// Not due yet.
        case waiting
        /// Due and not confirmed enqueued yet (being published, or its claimant died and the lease runs).
        case due
        /// Published and confirmed by the broker.
        case enqueued
        /// Will never fire: `success` after a child died.
        case never
    }

    /// One callback of the batch.
    public struct Callback: Sendable, Hashable, Codable {
        /// Which callback.
        public var kind: BatchCallback
        /// The job it runs.
        public var job: String
        /// The job id it is published under (``FanIn/callbackID(_:of:)``).
        public var jobID: String
        /// Where it is.
        public var state: CallbackState
    }

    /// The batch id.
    public var id: String
    /// Where it is.
    public var state: State
    /// The opener registered all its children.
    public var sealed: Bool
    /// Children registered and not finished.
    public var pending: Int
    /// Children that succeeded.
    public var succeeded: Int
    /// Children dead-lettered.
    public var dead: Int
    /// The callbacks defined, in firing order (death, complete, success).
    public var callbacks: [Callback]
    /// For a nested batch: the parent batch's id.
    public var parentBatch: String?
    /// For a nested batch: the child of the parent batch it stands for.
    public var parentChild: String?
    /// For a nested batch: the parent was told this batch completed.
    public var parentNotified: Bool
    /// When it was opened.
    public var createdAt: Date?
    /// When its last child finished, once complete.
    public var finishedAt: Date?

    /// Children registered so far (pending, succeeded and dead).
    public var total: Int
    /// Children finished (succeeded or dead).
    public var finished: Int { succeeded + dead }

    /// The answer for an id the store does not know.
    public static func unknown(_ id: String) -> BatchView {
        BatchView(id: id, state: .unknown, sealed: false, pending: 0, succeeded: 0, dead: 0, callbacks: [], parentBatch: nil,
                  parentChild: nil, parentNotified: false, createdAt: nil, finishedAt: nil)
    }

    /// The view of a ledger snapshot (pure: ``FanIn`` decides what is due).
    public init(_ s: BatchSnapshot, createdAt: Date?, finishedAt: Date?) {
        let complete = FanIn.isComplete(s)
        let due = Set(FanIn.due(s))
        id = s.definition.id
        state = complete ? .complete : s.sealed ? .running : .open
        sealed = s.sealed
        pending = s.pending
        succeeded = s.succeeded
        dead = s.dead
        total = s.pending + s.succeeded + s.dead
        callbacks = [BatchCallback.death, .complete, .success].compactMap { kind in
            guard let job = s.definition.callbacks[kind] else { return nil }
            let state: CallbackState = s.enqueued.contains(kind) ? .enqueued : due.contains(kind) ? .due
                : (kind == .success && s.dead > 0) ? .never : .waiting
            return Callback(kind: kind, job: job.name, jobID: FanIn.callbackID(kind, of: s.definition.id), state: state)
        }
        parentBatch = s.definition.parent?.batch
        parentChild = s.definition.parent?.child
        parentNotified = s.parentNotified
        self.createdAt = createdAt
        self.finishedAt = complete ? finishedAt : nil
    }

    init(id: String, state: State, sealed: Bool, pending: Int, succeeded: Int, dead: Int, callbacks: [Callback],
         parentBatch: String?, parentChild: String?, parentNotified: Bool, createdAt: Date?, finishedAt: Date?) {
        self.id = id
        self.state = state
        self.sealed = sealed
        self.pending = pending
        self.succeeded = succeeded
        self.dead = dead
        self.total = pending + succeeded + dead
        self.callbacks = callbacks
        self.parentBatch = parentBatch
        self.parentChild = parentChild
        self.parentNotified = parentNotified
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

/// One child of a batch: its outcome in the ledger and, when the worker records jobs in the store, its job.
public struct BatchChild: Sendable, Hashable, Codable {
    /// The child's job id.
    public var id: String
    /// How it ended; `nil` while pending.
    public var outcome: ChildOutcome?
    /// When its outcome was recorded. For a child with id `<batch>.<k>` (every child of
    /// ``Workflow/batch(_:onSuccess:onComplete:onDeath:queue:)``), whose outcome the store keeps as a bit
    /// rather than a row (docs/workflows.md, "Cost"): when its job finished, if the store records jobs,
    /// else `nil`.
    public var finishedAt: Date?
    /// Its job in the store (name, state, attempt, last error), when recorded there.
    public var job: JobStatus?

    /// Creates a child.
    public init(id: String, outcome: ChildOutcome?, finishedAt: Date?, job: JobStatus?) {
        self.id = id
        self.outcome = outcome
        self.finishedAt = finishedAt
        self.job = job
    }
}
