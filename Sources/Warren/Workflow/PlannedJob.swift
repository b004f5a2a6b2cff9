import WarrenAMQP

/// A job a workflow publishes: the first step(s) when it starts, then each step's successor, its
/// compensations or its on-failure job. Its id is deterministic (derived from the workflow id and the
/// step), so a step that runs twice publishes the same successor id twice, never a different one.
public struct PlannedJob: Sendable, Hashable {
    /// The job.
    public var job: WorkflowJob
    /// Its job id.
    public var id: String
    /// The work queue it goes to.
    public var queue: String
    /// The itinerary it carries.
    public var itinerary: Itinerary
    /// For a job of a group followed by more steps: the batch it is a child of (opened in a job store's
    /// ledger before it is published; its success callback continues the workflow).
    public var batch: BatchDefinition?

    /// Creates a planned job.
    public init(job: WorkflowJob, id: String, queue: String, itinerary: Itinerary) {
        self.job = job
        self.id = id
        self.queue = queue
        self.itinerary = itinerary
    }

    /// The enqueue request: the job with its id, queue, attempt limit and the itinerary headers. Throws
    /// when the itinerary is larger than ``WorkflowLimits/maxItineraryBytes``.
    public func request() throws(WorkflowStepError) -> JobRequest {
        let header = itinerary.headerValue
        let size = header.stringValue?.utf8.count ?? 0
        guard size <= WorkflowLimits.maxItineraryBytes else {
            throw WorkflowStepError("the itinerary of workflow \(itinerary.workflowID) for job '\(job.name)' is \(size) bytes; "
                                    + "the limit is \(WorkflowLimits.maxItineraryBytes) (fewer steps, smaller arguments or results)")
        }
        var headers: FieldTable = [WorkflowHeader.itinerary: header, WorkflowHeader.workflowID: .string(itinerary.workflowID)]
        if let batch { headers[WorkflowHeader.batch] = .string(batch.id) }
        return job.request(id: id, queue: queue, headers: headers)
    }
}

extension WorkflowJob {
    /// The enqueue request of this job with `id` on `queue`, carrying `headers`.
    func request(id: String, queue: String, headers: FieldTable) -> JobRequest {
        JobRequest(name: name, arguments: Array(arguments.utf8),
                   options: EnqueueOptions(queue: queue, jobID: id, maxAttempts: maxAttempts, headers: headers))
    }
}

/// A workflow step cannot go on (its result or itinerary is too large): the step fails permanently and is
/// dead-lettered as `non-retryable`, which runs the workflow's failure path.
public struct WorkflowStepError: Error, Sendable, CustomStringConvertible, NonRetryableError {
    /// What is wrong.
    public var description: String
    init(_ description: String) { self.description = description }
}
