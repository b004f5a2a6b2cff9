import Foundation
import WarrenAMQP

/// A batch callback that continues a workflow: the job id it is published under and the itinerary it
/// carries (JSON text, the ``WorkflowHeader/itinerary`` header). Stored with the batch in the ledger, so
/// the rest of the workflow travels in the callback.
public struct WorkflowContinuation: Sendable, Hashable, Codable {
    /// The job id of the callback (`W.k` for the step after a group, `W.on-failure`).
    public var jobID: String
    /// The workflow id (the ``WorkflowHeader/workflowID`` header).
    public var workflowID: String
    /// The itinerary, JSON text.
    public var itinerary: String

    /// Creates a continuation.
    public init(jobID: String, workflowID: String, itinerary: String) {
        self.jobID = jobID
        self.workflowID = workflowID
        self.itinerary = itinerary
    }

    enum CodingKeys: String, CodingKey { case jobID = "id", workflowID = "workflow", itinerary }

    /// The continuation of a planned workflow job.
    init(_ planned: PlannedJob) {
        self.init(jobID: planned.id, workflowID: planned.itinerary.workflowID,
                  itinerary: planned.itinerary.headerValue.stringValue ?? "")
    }

    /// The headers it adds to its callback message.
    var headers: FieldTable {
        [WorkflowHeader.itinerary: .string(itinerary), WorkflowHeader.workflowID: .string(workflowID)]
    }
}

/// A group followed by more steps (fan-in), as pure functions: its jobs run as a batch (id `W.k`, the
/// group's step id; children `W.k.j` as for any group) whose `success` callback is the next step, carrying
/// the rest of the itinerary, and whose `death` callback is the workflow's on-failure job. The children
/// carry an itinerary with no steps after them and no on-failure job, so they continue nothing themselves.
extension WorkflowAdvance {
    /// The jobs of group `step` when steps follow it: each a child of the returned batch.
    static func fanIn(_ step: WorkflowStep, itinerary: Itinerary, queue: String) -> [PlannedJob] {
        let id = "\(itinerary.workflowID).\(itinerary.step)"
        var child = itinerary
        child.next = []
        child.onFailure = nil
        var callbacks: [BatchCallback: WorkflowJob] = [:]
        var after = itinerary
        after.kind = .chain
        let summary = groupSummary(batch: id, children: step.jobs.count)
        if let next = try? afterSuccess(after, result: Array(summary.utf8), queue: queue).first {
            callbacks[.success] = next.job.continuing(next)
        }
        var failed = itinerary
        failed.failure = "a job of group step \(itinerary.step) (batch \(id)) died; its dead letter says which and why"
        failed.next = []
        if let onFailure = nextCompensation(failed, queue: queue).first {
            callbacks[.death] = onFailure.job.continuing(onFailure)
        }
        let batch = BatchDefinition(id: id, callbacks: callbacks)
        return step.jobs.enumerated().map { j, job in
            var planned = PlannedJob(job: job, id: "\(id).\(j + 1)", queue: job.queue ?? queue, itinerary: child)
            planned.batch = batch
            return planned
        }
    }

    /// What the previous result of the step after a group is: `{"batch": "W.k", "children": n}` (child `j`'s
    /// id is `W.k.j`; with a job store its result is there).
    public static func groupSummary(batch: String, children: Int) -> String {
        CeleryCanvas.jsonText(["batch": batch, "children": children] as [String: Any])
    }
}

extension WorkflowJob {
    /// This job as a batch callback continuing `planned`'s workflow (its queue made explicit).
    func continuing(_ planned: PlannedJob) -> WorkflowJob {
        var job = self
        job.queue = planned.queue
        job.continuation = WorkflowContinuation(planned)
        return job
    }
}

/// A workflow reached a group followed by more steps (fan-in) on a worker without a job store: the step
/// is dead-lettered (non-retryable) naming `WARREN_STORE`; requeue it to a worker with a store.
public struct WorkflowFanInNeedsStore: Error, Sendable, CustomStringConvertible, NonRetryableError {
    /// The group's batch id (`W.k`).
    public var batch: String
    public var description: String {
        "\(StoreError.notConfigured("the group \(batch) followed by more steps (fan-in)").message); "
            + "requeue this dead letter to a worker with WARREN_STORE set"
    }
}
