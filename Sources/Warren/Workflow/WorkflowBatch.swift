import WarrenAMQP

/// A batch (fan-in): children run in parallel, and callbacks run when they end: `success` (every child
/// succeeded), `complete` (every child finished, some perhaps dead), `death` (the first child died).
/// Its state lives in a job store's ``BatchLedger``; start it with ``JobProducer/start(_:ledger:)``.
///
/// ```swift
/// let batch = Workflow.batch([.job(Resize(image: 1)), .job(Resize(image: 2))],
///                            onSuccess: WorkflowJob(name: "publish-album"), onDeath: WorkflowJob(name: "alert"))
/// try await producer.start(batch, ledger: store.batchLedger)
/// ```
///
/// Ids: child `k` (1-based) of batch `B` is `B.k`; its callbacks are `B.success`, `B.complete`, `B.death`
/// (``FanIn/callbackID(_:of:)``). Each child carries the batch id in the ``WorkflowHeader/batch`` header.
public struct WorkflowBatch: Sendable, Hashable {
    /// The batch id.
    public var id: String
    /// The children, in order.
    public var children: [WorkflowJob]
    /// Nested batches, children after ``children``: nested batch `i` stands for child `B.(n+i)` (`n` jobs
    /// before it), which it finishes when it completes, as dead if one of its children died. Its id is
    /// that child id (whatever it was built with); its callbacks are optional; its queue is its own (in a
    /// workflow file, its parent's unless it names one).
    public var batches: [WorkflowBatch]
    /// The callback jobs, by kind (at least one).
    public var callbacks: [BatchCallback: WorkflowJob]
    /// The queue of jobs that name none. Default `default`.
    public var queue: String

    /// Creates a batch; `id` defaults to a new UUID.
    public init(id: String? = nil, children: [WorkflowJob], batches: [WorkflowBatch] = [], callbacks: [BatchCallback: WorkflowJob],
                queue: String = "default") {
        self.id = id ?? JobID.make()
        self.children = children
        self.batches = batches
        self.callbacks = callbacks
        self.queue = queue
    }

    /// Checks that the batch can run: an id, children and at least one callback (optional in a nested
    /// batch), every job named, nesting at most ``maxDepth`` deep.
    public func validate() throws(WarrenError) {
        try validate(depth: 0)
    }

    /// How deep batches may nest. 16.
    public static let maxDepth = 16

    private func validate(depth: Int) throws(WarrenError) {
        guard !id.isEmpty else { throw WarrenError(.invalidInput, "the batch id is empty") }
        guard !children.isEmpty || !batches.isEmpty else { throw WarrenError(.invalidInput, "batch \(id) has no children") }
        guard depth > 0 || !callbacks.isEmpty else {
            throw WarrenError(.invalidInput, "batch \(id) has no callback (on_success, on_complete or on_death)")
        }
        guard depth < Self.maxDepth else { throw WarrenError(.invalidInput, "batch \(id) nests more than \(Self.maxDepth) batches deep") }
        if (children + callbacks.values).contains(where: { $0.name.isEmpty }) {
            throw WarrenError(.invalidInput, "batch \(id) has a job without a name")
        }
        for inner in nested { try inner.validate(depth: depth + 1) }
    }

    /// The child ids, in order: the jobs', then the nested batches'.
    public var childIDs: [String] { (0..<(children.count + batches.count)).map { "\(id).\($0 + 1)" } }

    /// The nested batches with their ids: each its child id in this batch, applied all the way down.
    public var nested: [WorkflowBatch] {
        zip(batches, childIDs.dropFirst(children.count)).map { inner, childID in
            var inner = inner
            inner.id = childID
            return inner
        }
    }

    /// The enqueue requests of the children, each carrying the batch header.
    public func childRequests() -> [JobRequest] {
        zip(children, childIDs.prefix(children.count)).map { job, childID in
            BatchMembership.request(job, id: childID, queue: job.queue ?? queue, batch: id)
        }
    }

    /// The queues its jobs go to.
    public var queues: Set<String> {
        Set([queue] + (children + callbacks.values).compactMap(\.queue)).union(batches.flatMap(\.queues))
    }
}

extension Workflow {
    /// A batch of `children` (job steps; a group's jobs count one by one) and nested `batches` (children
    /// after the jobs) with callbacks.
    public static func batch(_ children: [WorkflowStep], batches: [WorkflowBatch] = [], id: String? = nil, onSuccess: WorkflowJob? = nil,
                             onComplete: WorkflowJob? = nil, onDeath: WorkflowJob? = nil, queue: String = "default") -> WorkflowBatch {
        var callbacks: [BatchCallback: WorkflowJob] = [:]
        callbacks[.success] = onSuccess
        callbacks[.complete] = onComplete
        callbacks[.death] = onDeath
        return WorkflowBatch(id: id, children: children.flatMap(\.jobs), batches: batches, callbacks: callbacks, queue: queue)
    }
}
