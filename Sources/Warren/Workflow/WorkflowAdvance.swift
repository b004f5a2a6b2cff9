import Foundation

/// What a workflow publishes next, as pure functions of the itinerary and how the step ended: no I/O, so
/// every rule is tested without a broker (`WorkflowAdvanceTests`). ``WorkflowMiddleware`` publishes what
/// they return, with confirms, before the step's delivery is acked.
///
/// Ids: step `k` (1-based) of workflow `W` is `W.k`, child `j` of a group step `W.k.j`, the compensation of
/// step `k` is `W.undo-k` and the on-failure job `W.on-failure`. A group followed by more steps is a batch
/// `W.k` whose success callback is step `k+1` (see ``fanIn(_:itinerary:queue:)``).
public enum WorkflowAdvance {
    /// After the step of `itinerary` succeeded with `result` (JSON) on queue `queue`: the next step (its
    /// group's jobs, for a group), the next compensation, or nothing when the workflow is done.
    public static func afterSuccess(_ itinerary: Itinerary, result: [UInt8]?, queue: String) throws(WorkflowStepError) -> [PlannedJob] {
        if let result, result.count > WorkflowLimits.maxPreviousResultBytes {
            throw WorkflowStepError("step \(itinerary.step) of workflow \(itinerary.workflowID) returned \(result.count) bytes; "
                                    + "at most \(WorkflowLimits.maxPreviousResultBytes) are passed to the next step (return a reference instead)")
        }
        let resultText = result.map { String(decoding: $0, as: UTF8.self) }
        switch itinerary.kind {
        case .compensation:
            return nextCompensation(itinerary, queue: queue)
        case .chain, .saga:
            guard let step = itinerary.next.first else { return [] }
            var next = itinerary
            if itinerary.kind == .saga, let compensation = itinerary.compensation {
                next.log.append(.init(step: itinerary.step, compensation: compensation, result: resultText))
            }
            next.step += 1
            next.next = Array(itinerary.next.dropFirst())
            next.previousResult = resultText
            next.compensation = step.compensation
            return jobs(of: step, itinerary: next, queue: queue)
        }
    }

    /// After the step of `itinerary` (job `jobName`) died with `failure`: a saga's compensations, newest
    /// first, then the on-failure job; a chain's on-failure job; nothing for a dying compensation (it stays
    /// in the dead-letter queue with the saga id and the compensations still to run).
    public static func afterDeath(_ itinerary: Itinerary, jobName: String, failure: FailureInfo, queue: String) -> [PlannedJob] {
        guard itinerary.kind != .compensation else { return [] }
        var failed = itinerary
        failed.failure = "step \(itinerary.step) (\(jobName)) died: \(failure.type): \(failure.message)"
        failed.next = []
        return nextCompensation(failed, queue: queue)
    }

    /// The compensation for the newest entry of the log, or the on-failure job once the log is empty.
    static func nextCompensation(_ itinerary: Itinerary, queue: String) -> [PlannedJob] {
        var next = itinerary
        next.next = []
        next.compensation = nil
        if let entry = itinerary.log.last {
            next.kind = .compensation
            next.step = entry.step
            next.log.removeLast()
            next.previousResult = entry.result
            return [PlannedJob(job: entry.compensation, id: "\(itinerary.workflowID).undo-\(entry.step)",
                               queue: entry.compensation.queue ?? queue, itinerary: next)]
        }
        guard let onFailure = itinerary.onFailure else { return [] }
        next.kind = .chain
        next.onFailure = nil
        next.previousResult = failureJSON(itinerary)
        return [PlannedJob(job: onFailure, id: "\(itinerary.workflowID).on-failure", queue: onFailure.queue ?? queue, itinerary: next)]
    }

    /// The jobs that run `step` (number `itinerary.step`).
    static func jobs(of step: WorkflowStep, itinerary: Itinerary, queue: String) -> [PlannedJob] {
        let id = "\(itinerary.workflowID).\(itinerary.step)"
        if step.isGroup, !itinerary.next.isEmpty { return fanIn(step, itinerary: itinerary, queue: queue) }
        guard step.isGroup else {
            return step.jobs.map { PlannedJob(job: $0, id: id, queue: $0.queue ?? queue, itinerary: itinerary) }
        }
        return step.jobs.enumerated().map { j, job in
            PlannedJob(job: job, id: "\(id).\(j + 1)", queue: job.queue ?? queue, itinerary: itinerary)
        }
    }

    /// What the on-failure job gets as its previous result: `{"workflow", "step", "error"}`.
    static func failureJSON(_ itinerary: Itinerary) -> String {
        let object: [String: Any] = ["workflow": itinerary.workflowID, "step": itinerary.step, "error": itinerary.failure ?? ""]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
