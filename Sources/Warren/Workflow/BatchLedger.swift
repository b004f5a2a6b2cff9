/// The callbacks of a batch (fan-in), as Sidekiq Pro batches and Celery chords have them.
public enum BatchCallback: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every child succeeded (never fires once a child died).
    case success
    /// Every child finished, some perhaps dead.
    case complete
    /// The first child died.
    case death
}

/// How a child of a batch ended.
public enum ChildOutcome: String, Sendable, Hashable, Codable {
    /// It succeeded.
    case succeeded
    /// It was dead-lettered.
    case dead
}

/// A batch as it is opened: its id, its callbacks and, for a nested batch, the child of its parent batch it
/// stands for (finished when this batch completes).
public struct BatchDefinition: Sendable, Hashable, Codable {
    /// The batch id; callback job ids derive from it (`<id>.success`, `<id>.complete`, `<id>.death`).
    public var id: String
    /// The callback jobs, by kind.
    public var callbacks: [BatchCallback: WorkflowJob]
    /// For a nested batch: the parent batch's id and this batch's child id in it.
    public var parent: (batch: String, child: String)? {
        get { parentBatch.flatMap { b in parentChild.map { (b, $0) } } }
        set { parentBatch = newValue?.batch; parentChild = newValue?.child }
    }
    var parentBatch: String?
    var parentChild: String?

    /// Creates a definition.
    public init(id: String, callbacks: [BatchCallback: WorkflowJob], parent: (batch: String, child: String)? = nil) {
        self.id = id
        self.callbacks = callbacks
        self.parentBatch = parent?.batch
        self.parentChild = parent?.child
    }
}

/// What a ledger knows of a batch at one moment, for ``FanIn``.
public struct BatchSnapshot: Sendable, Hashable {
    /// The batch.
    public var definition: BatchDefinition
    /// The opener has added all its children; children may still add children while they run.
    public var sealed: Bool
    /// Children registered and not finished.
    public var pending: Int
    /// Children finished as succeeded.
    public var succeeded: Int
    /// Children finished as dead.
    public var dead: Int
    /// Callbacks whose enqueue is confirmed.
    public var enqueued: Set<BatchCallback>
    /// The parent batch was told this batch completed.
    public var parentNotified: Bool

    /// Creates a snapshot.
    public init(definition: BatchDefinition, sealed: Bool, pending: Int, succeeded: Int, dead: Int,
                enqueued: Set<BatchCallback> = [], parentNotified: Bool = false) {
        self.definition = definition
        self.sealed = sealed
        self.pending = pending
        self.succeeded = succeeded
        self.dead = dead
        self.enqueued = enqueued
        self.parentNotified = parentNotified
    }
}

/// The answer to a claim of a batch callback.
public enum BatchClaim: Sendable, Hashable {
    /// The claimant holds it now: publish, then mark it enqueued.
    case won
    /// It is enqueued already: nothing to do.
    case enqueued
    /// Another claimant holds it and its lease has not run out: it may be publishing right now. The
    /// caller fails its attempt, to be retried: by then it is enqueued, or the lease ran out (the holder
    /// died) and the retry takes it over.
    case held
}

/// Where batch state lives: a job store's tables (the SQLite and PostgreSQL backends implement it) or any
/// storage with atomic conditional updates. Every method is idempotent, so a worker killed anywhere and
/// redelivered repeats it harmlessly:
/// - children are recorded **by child id**, so a child that runs twice counts once;
/// - each callback is claimed with a **conditional update** (free, or held under a lease that ran out and
///   not enqueued), so one claimant at a time publishes it; a claimant killed before the confirm leaves a
///   lease that runs out, and the retried child takes it over and publishes the same id.
public protocol BatchLedger: Sendable {
    /// Records the batch (nothing if it exists).
    func open(_ batch: BatchDefinition) async throws
    /// Registers children as pending (those already known are left as they are). Called before they are
    /// published, by the opener or by a running child of the batch (which is itself still pending, so the
    /// batch cannot complete in between). Throws if the batch has completed.
    func add(children: [String], to batch: String) async throws
    /// The opener has registered all its children; returns the snapshot after sealing.
    func seal(_ batch: String) async throws -> BatchSnapshot
    /// Records that `child` finished with `outcome` (the first outcome recorded wins); returns the snapshot after.
    func finish(child: String, in batch: String, outcome: ChildOutcome) async throws -> BatchSnapshot
    /// ``finish(child:in:outcome:)`` without a task: `completion` gets the snapshot after (or the error),
    /// once, from whatever thread recorded it; keep it short and never block in it. The default calls
    /// ``finish(child:in:outcome:)`` from a task; the job store's ledger calls it from its group commit.
    func startFinish(child: String, in batch: String, outcome: ChildOutcome,
                     completion: @escaping @Sendable (Result<BatchSnapshot, any Error>) -> Void)
    /// Claims `callback` for `claimant` at `now` for `lease`: won when free or its lease ran out (and not
    /// enqueued).
    func claim(_ callback: BatchCallback, of batch: String, by claimant: String, at now: ContinuousClock.Instant,
               lease: Duration) async throws -> BatchClaim
    /// Records that `callback` was enqueued (confirmed by the broker).
    func enqueued(_ callback: BatchCallback, of batch: String) async throws
    /// Claims telling the parent batch that this batch completed, as ``claim(_:of:by:at:lease:)``.
    func claimParentNotice(of batch: String, by claimant: String, at now: ContinuousClock.Instant,
                           lease: Duration) async throws -> BatchClaim
    /// Records that the parent batch was told.
    func parentNotified(of batch: String) async throws
    /// The batch's state, or `nil` when unknown.
    func snapshot(_ batch: String) async throws -> BatchSnapshot?
}

extension BatchLedger {
    /// Default: ``finish(child:in:outcome:)`` from a task.
    public func startFinish(child: String, in batch: String, outcome: ChildOutcome,
                            completion: @escaping @Sendable (Result<BatchSnapshot, any Error>) -> Void) {
        Task {
            do { completion(.success(try await finish(child: child, in: batch, outcome: outcome))) } catch { completion(.failure(error)) }
        }
    }
}

/// A ledger refusing a request about a batch: permanent, so the child is dead-lettered with this reason
/// rather than retried.
public struct BatchLedgerError: Error, Sendable, CustomStringConvertible, NonRetryableError {
    /// Stable error kinds.
    public enum Code: String, Sendable, Hashable {
        /// No batch has this id (a child published by hand, or its batch was deleted).
        case unknownBatch
        /// Children were added to a batch that completed.
        case completed
    }

    /// The kind.
    public var code: Code
    /// The batch.
    public var batch: String

    /// Creates an error.
    public init(_ code: Code, batch: String) {
        self.code = code
        self.batch = batch
    }

    public var description: String {
        switch code {
        case .unknownBatch: "batch \(batch) is unknown: it was never opened in this job store (or was deleted)"
        case .completed: "batch \(batch) has completed: no children can be added"
        }
    }
}
