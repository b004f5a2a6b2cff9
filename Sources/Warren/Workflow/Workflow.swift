/// A workflow to start: a chain or saga of steps (a step may be a group), with an optional on-failure
/// job. Build one in Swift or read one from a file (``WorkflowFile``), then start it with
/// ``JobProducer/start(_:)``.
///
/// ```swift
/// let wf = Workflow.chain(.job(FetchOrder(id: 7)), .group([.job(Email(...)), .job(Invoice(...))]),
///                         onFailure: WorkflowJob(name: "alert"))
/// let id = try await producer.start(wf)
/// ```
public struct Workflow: Sendable, Hashable {
    /// The workflow id; the ids of its jobs derive from it (see ``WorkflowAdvance``).
    public var id: String
    /// ``Itinerary/Kind/chain`` or ``Itinerary/Kind/saga``.
    public var kind: Itinerary.Kind
    /// The steps, in order.
    public var steps: [WorkflowStep]
    /// Run once when a step dies (after a saga's compensations); it gets `{"workflow", "step", "error"}`
    /// as its previous result.
    public var onFailure: WorkflowJob?
    /// The queue of jobs that name none. Default `default`.
    public var queue: String

    /// Creates a workflow; `id` defaults to a new UUID.
    public init(id: String? = nil, kind: Itinerary.Kind, steps: [WorkflowStep], onFailure: WorkflowJob? = nil,
                queue: String = "default") {
        self.id = id ?? JobID.make()
        self.kind = kind
        self.steps = steps
        self.onFailure = onFailure
        self.queue = queue
    }

    /// Steps one after another, each seeing the previous one's result.
    public static func chain(_ steps: WorkflowStep..., id: String? = nil, onFailure: WorkflowJob? = nil,
                             queue: String = "default") -> Workflow {
        Workflow(id: id, kind: .chain, steps: steps, onFailure: onFailure, queue: queue)
    }

    /// Steps one after another, each with an optional compensation: when a step dies, the compensations of
    /// the steps done run newest first.
    public static func saga(_ steps: WorkflowStep..., id: String? = nil, onFailure: WorkflowJob? = nil,
                            queue: String = "default") -> Workflow {
        Workflow(id: id, kind: .saga, steps: steps, onFailure: onFailure, queue: queue)
    }

    /// Jobs published together as one confirmed batch (fan-out).
    public static func group(_ jobs: [WorkflowStep], id: String? = nil, queue: String = "default") -> Workflow {
        Workflow(id: id, kind: .chain, steps: [.group(jobs)], queue: queue)
    }

    /// Checks that the workflow can run: at least one step, no empty step or job name, no group right after
    /// a group, no group in a saga, compensations only in a saga. A group followed by more steps waits for
    /// its jobs (fan-in): it runs as a batch and needs a job store (``needsStore``).
    public func validate() throws(WarrenError) {
        guard kind != .compensation else { throw WarrenError(.invalidInput, "a workflow is a chain or a saga") }
        guard !id.isEmpty else { throw WarrenError(.invalidInput, "the workflow id is empty") }
        guard !steps.isEmpty else { throw WarrenError(.invalidInput, "workflow \(id) has no steps") }
        for (index, step) in steps.enumerated() {
            let where_ = "step \(index + 1) of workflow \(id)"
            guard !step.jobs.isEmpty else { throw WarrenError(.invalidInput, "\(where_) has no job") }
            for job in step.jobs + [step.compensation, onFailure].compactMap({ $0 }) where job.name.isEmpty {
                throw WarrenError(.invalidInput, "\(where_) has a job without a name")
            }
            if step.isGroup, index > 0, steps[index - 1].isGroup {
                throw WarrenError(.invalidInput, "\(where_) is a group right after a group: the step after a group is a single job "
                                  + "(it runs once every job of the group succeeded)")
            }
            if step.isGroup && kind == .saga {
                throw WarrenError(.invalidInput, "\(where_) is a group: a saga's steps are single jobs, each with its compensation")
            }
            if step.compensation != nil && kind != .saga {
                throw WarrenError(.invalidInput, "\(where_) has a compensation, which only a saga runs (kind: saga)")
            }
        }
    }

    /// Whether a group is followed by more steps: waiting for it (fan-in) is a batch, which needs a job store's
    /// ledger (``JobProducer/start(_:ledger:lease:)``, and a worker with `WARREN_STORE`).
    public var needsStore: Bool { steps.dropLast().contains(where: \.isGroup) }

    /// The job(s) of the first step, each carrying the workflow's itinerary.
    public func firstJobs() throws(WarrenError) -> [PlannedJob] {
        try validate()
        let itinerary = Itinerary(workflowID: id, kind: kind, step: 1, steps: steps.count, next: Array(steps.dropFirst()),
                                  onFailure: onFailure, compensation: steps[0].compensation)
        return WorkflowAdvance.jobs(of: steps[0], itinerary: itinerary, queue: queue)
    }
}

extension JobProducer {
    /// Starts `workflow`: publishes its first step (a group's jobs as one confirmed batch) and returns the
    /// workflow id once the broker has it. A workflow with a group followed by more steps needs a ledger
    /// (``start(_:ledger:lease:)``): refused here, before touching the broker, naming `WARREN_STORE`.
    @discardableResult
    public func start(_ workflow: Workflow) async throws(WarrenError) -> String {
        try workflow.validate()
        guard !workflow.needsStore else {
            throw WarrenError(.invalidInput, StoreError.notConfigured("workflow \(workflow.id) (a group followed by more steps is a batch)").message)
        }
        do { return try await start(workflow, ledger: nil) } catch let error as WarrenError { throw error } catch {
            throw WarrenError(.invalidInput, "\(error)")
        }
    }

    /// Starts `workflow` with `ledger` (a job store's ``JobStore/batchLedger``) for its groups followed by
    /// more steps: when the first step is such a group, its batch is opened and sealed here. Throws
    /// ``StoreError/Code/notConfigured`` before touching the broker when the workflow needs a store and
    /// `ledger` is `nil`.
    @discardableResult
    public func start(_ workflow: Workflow, ledger: (any BatchLedger)?, lease: Duration = .seconds(60)) async throws -> String {
        try workflow.validate()
        if workflow.needsStore, ledger == nil {
            throw StoreError.notConfigured("workflow \(workflow.id) (a group followed by more steps is a batch)")
        }
        let first = try workflow.firstJobs()
        do { try await publish(first, ledger: ledger, lease: lease) } catch let error as WorkflowStepError {
            throw WarrenError(.invalidInput, error.description)
        }
        return workflow.id
    }

    /// Publishes workflow jobs with confirms: one alone, several as one confirmed batch. Throws the first
    /// failure (none is lost: a caller that retries publishes the same ids again).
    func publish(_ requests: [JobRequest]) async throws(WarrenError) {
        guard !requests.isEmpty else { return }
        if requests.count == 1 {
            try await enqueue(requests[0])
            return
        }
        for result in await enqueue(batch: requests) { _ = try result.get() }
    }
}
