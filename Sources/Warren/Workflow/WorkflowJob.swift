import Foundation

/// One job of a workflow, as it travels in an itinerary and appears in a workflow file: its name, its
/// JSON arguments and, optionally, its queue and attempt limit.
public struct WorkflowJob: Sendable, Hashable, Codable {
    /// Job name.
    public var name: String
    /// Arguments as JSON text (an object for typed jobs). Default `{}`.
    public var arguments: String
    /// Work queue; `nil` means the queue of the step that publishes it (the workflow's queue for the first).
    public var queue: String?
    /// Attempt limit for this job, overriding the worker's retry policy.
    public var maxAttempts: Int?
    /// Set on a batch callback that continues a workflow (the step after a group, or its on-failure job):
    /// the job id and itinerary it is published with (``WorkflowContinuation``).
    public var continuation: WorkflowContinuation?

    /// A job by name with JSON `arguments`.
    public init(name: String, arguments: String = "{}", queue: String? = nil, maxAttempts: Int? = nil,
                continuation: WorkflowContinuation? = nil) {
        self.name = name
        self.arguments = arguments
        self.queue = queue
        self.maxAttempts = maxAttempts
        self.continuation = continuation
    }

    /// A typed job.
    public init<P: JobParameters>(_ parameters: P, queue: String? = nil, maxAttempts: Int? = nil) throws(WarrenError) {
        self.init(name: P.jobName, arguments: String(decoding: try JSONArguments.encode(parameters), as: UTF8.self),
                  queue: queue, maxAttempts: maxAttempts)
    }

    enum CodingKeys: String, CodingKey {
        case name = "job", arguments = "args", queue, maxAttempts = "attempts", continuation = "continue"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        arguments = try c.decodeIfPresent(String.self, forKey: .arguments) ?? "{}"
        queue = try c.decodeIfPresent(String.self, forKey: .queue)
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts)
        continuation = try c.decodeIfPresent(WorkflowContinuation.self, forKey: .continuation)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        if arguments != "{}" { try c.encode(arguments, forKey: .arguments) }
        try c.encodeIfPresent(queue, forKey: .queue)
        try c.encodeIfPresent(maxAttempts, forKey: .maxAttempts)
        try c.encodeIfPresent(continuation, forKey: .continuation)
    }
}

/// One step of a chain or saga: a job (with, in a saga, the job that undoes it), or a group of jobs
/// published together as one confirmed batch (fan-out).
public struct WorkflowStep: Sendable, Hashable, Codable {
    /// The step's jobs: one for a job step, one or more for a group.
    public var jobs: [WorkflowJob]
    /// Whether the step is a group (its jobs run in parallel).
    public var isGroup: Bool
    /// In a saga: the job that undoes this step, run if a later step fails for good.
    public var compensation: WorkflowJob?

    /// A step running `job`, undone by `compensation` in a saga.
    public static func job(_ job: WorkflowJob, compensation: WorkflowJob? = nil) -> WorkflowStep {
        WorkflowStep(jobs: [job], isGroup: false, compensation: compensation)
    }

    /// A step running the job `name` with JSON `arguments`.
    public static func job(_ name: String, arguments: String = "{}", queue: String? = nil,
                           compensation: WorkflowJob? = nil) -> WorkflowStep {
        .job(WorkflowJob(name: name, arguments: arguments, queue: queue), compensation: compensation)
    }

    /// A step running a typed job.
    public static func job<P: JobParameters>(_ parameters: P, queue: String? = nil,
                                             compensation: WorkflowJob? = nil) throws(WarrenError) -> WorkflowStep {
        .job(try WorkflowJob(parameters, queue: queue), compensation: compensation)
    }

    /// A group: the jobs of `steps` (each a job step) published as one confirmed batch.
    public static func group(_ steps: [WorkflowStep]) -> WorkflowStep {
        WorkflowStep(jobs: steps.flatMap(\.jobs), isGroup: true, compensation: nil)
    }

    enum CodingKeys: String, CodingKey { case group, compensate }

    public init(jobs: [WorkflowJob], isGroup: Bool, compensation: WorkflowJob?) {
        self.jobs = jobs
        self.isGroup = isGroup
        self.compensation = compensation
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let group = try c.decodeIfPresent([WorkflowJob].self, forKey: .group) {
            self.init(jobs: group, isGroup: true, compensation: nil)
        } else {
            self.init(jobs: [try WorkflowJob(from: decoder)], isGroup: false,
                      compensation: try c.decodeIfPresent(WorkflowJob.self, forKey: .compensate))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if isGroup {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(jobs, forKey: .group)
        } else {
            try jobs.first?.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(compensation, forKey: .compensate)
        }
    }
}
