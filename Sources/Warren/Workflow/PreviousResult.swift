import Foundation

/// What a workflow step knows about its workflow, set by ``WorkflowMiddleware`` for the attempt it wraps.
public struct WorkflowStepInfo: Sendable, Hashable {
    /// The workflow (saga) id.
    public var workflowID: String
    /// Chain, saga or compensation.
    public var kind: Itinerary.Kind
    /// This step, 1-based (for a compensation: the step it undoes).
    public var step: Int
    /// How many steps the workflow has.
    public var steps: Int
    /// The previous step's result as JSON (for a compensation: its step's result; for the on-failure job:
    /// `{"workflow", "step", "error"}`), or `nil`.
    public var previousResult: [UInt8]?

    /// The attempt's workflow step, if it is one. Bound by the middleware around the job; child tasks
    /// inherit it, detached tasks do not.
    @TaskLocal static var current: WorkflowStepInfo?
}

extension JobContext {
    /// The workflow step this job runs as, or `nil` for a plain job (needs ``WorkflowMiddleware``; read it
    /// in the job's own task).
    public var workflow: WorkflowStepInfo? { WorkflowStepInfo.current }

    /// The previous workflow step's result as JSON (at most ``WorkflowLimits/maxPreviousResultBytes``), or
    /// `nil` for the first step, a step after one that returned nothing, or a plain job.
    public var previousResult: [UInt8]? { WorkflowStepInfo.current?.previousResult }

    /// The previous step's result decoded as `T`, or `nil` when there is none. Throws ``ArgumentsError``
    /// (the step is dead-lettered as `invalid-arguments`) when it does not decode.
    public func previousResult<T: Decodable>(as type: T.Type) throws(ArgumentsError) -> T? {
        guard let json = previousResult else { return nil }
        return try JSONArguments.decode(T.self, from: json)
    }
}
