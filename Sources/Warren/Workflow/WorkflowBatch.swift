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
    /// The callback jobs, by kind (at least one).
    public var callbacks: [BatchCallback: WorkflowJob]
    /// The queue of jobs that name none. Default `default`.
    public var queue: String

    /// Creates a batch; `id` defaults to a new UUID.
    public init(id: String? = nil, children: [WorkflowJob], callbacks: [BatchCallback: WorkflowJob], queue: String = "default") {
        self.id = id ?? JobID.make()
        self.children = children
        self.callbacks = callbacks
        self.queue = queue
    }

    /// Checks that the batch can run: an id, children and at least one callback, every job named.
    public func validate() throws(WarrenError) {
        guard !id.isEmpty else { throw WarrenError(.invalidInput, "the batch id is empty") }
        guard !children.isEmpty else { throw WarrenError(.invalidInput, "batch \(id) has no children") }
        guard !callbacks.isEmpty else {
            throw WarrenError(.invalidInput, "batch \(id) has no callback (on_success, on_complete or on_death)")
        }
        if (children + callbacks.values).contains(where: { $0.name.isEmpty }) {
            throw WarrenError(.invalidInput, "batch \(id) has a job without a name")
        }
    }

    /// The child jobs' ids, in order.
    public var childIDs: [String] { children.indices.map { "\(id).\($0 + 1)" } }

    /// The enqueue requests of the children, each carrying the batch header.
    public func childRequests() -> [JobRequest] {
        zip(children, childIDs).map { job, childID in
            BatchMembership.request(job, id: childID, queue: job.queue ?? queue, batch: id)
        }
    }

    /// The queues its jobs go to.
    public var queues: Set<String> { Set([queue] + (children + callbacks.values).compactMap(\.queue)) }
}

extension Workflow {
    /// A batch of `children` (job steps; a group's jobs count one by one) with callbacks.
    public static func batch(_ children: [WorkflowStep], id: String? = nil, onSuccess: WorkflowJob? = nil,
                             onComplete: WorkflowJob? = nil, onDeath: WorkflowJob? = nil, queue: String = "default") -> WorkflowBatch {
        var callbacks: [BatchCallback: WorkflowJob] = [:]
        callbacks[.success] = onSuccess
        callbacks[.complete] = onComplete
        callbacks[.death] = onDeath
        return WorkflowBatch(id: id, children: children.flatMap(\.jobs), callbacks: callbacks, queue: queue)
    }
}

extension JobProducer {
    /// Starts `batch`: records it and its children in `ledger`, publishes the children with confirms (in
    /// chunks of 1,000), then seals it, publishing any callback already due. Returns the batch id.
    /// Starting the same batch again (same id) publishes its children again under the same ids.
    /// Throws ``StoreError/Code/notConfigured`` when `ledger` is `nil` (no job store).
    @discardableResult
    public func start(_ batch: WorkflowBatch, ledger: (any BatchLedger)?, lease: Duration = .seconds(60)) async throws -> String {
        guard let ledger else { throw StoreError.notConfigured("a batch (fan-in)") }
        try batch.validate()
        let coordinator = BatchMembership.coordinator(ledger: ledger, producer: self, queue: batch.queue, lease: lease)
        try await coordinator.open(BatchDefinition(id: batch.id, callbacks: batch.callbacks), children: batch.childIDs)
        let requests = batch.childRequests()
        var start = 0
        while start < requests.count {
            try await publish(Array(requests[start..<min(start + 1_000, requests.count)]))
            start += 1_000
        }
        try await BatchMembership.waitingOutHeld(lease: lease) { try await coordinator.sealed(batch.id) }
        return batch.id
    }
}
