import Foundation
import Logging
import Synchronization

/// What a running job knows about itself, and how it enqueues follow-up jobs.
public struct JobContext: Sendable {
    /// The fields fixed for the attempt, in one object (``Facts``): the context travels in the attempt through
    /// every middleware, the handler and the settlement; a copy is one retain instead of one per field. What
    /// middlewares set per attempt (producer, progress reporter, checkpoint) is stored beside it, so setting
    /// it never copies the facts.
    private let facts: Facts

    init(jobID: String, jobName: String, queue: String, attempt: Int, maxAttempts: Int, redelivered: Bool, enqueuedAt: Date?,
         traceparent: String?, logger: Logger, producer: JobProducer, progressReporter: (any JobProgressReporter)?,
         checkpoint: CursorCheckpoint? = nil) {
        facts = Facts(jobID: jobID, jobName: jobName, queue: queue, attempt: attempt, maxAttempts: maxAttempts,
                      redelivered: redelivered, enqueuedAt: enqueuedAt, traceparent: traceparent, base: logger)
        self.producer = producer
        self.progressReporter = progressReporter
        self.checkpoint = checkpoint
    }

    /// Job id (message id).
    public var jobID: String { facts.jobID }
    /// Job name.
    public var jobName: String { facts.jobName }
    /// Work queue it came from.
    public var queue: String { facts.queue }
    /// 1-based attempt number.
    public var attempt: Int { facts.attempt }
    /// Attempts allowed in all.
    public var maxAttempts: Int { facts.maxAttempts }
    /// The broker delivered this message before without an ack (a worker died or lost its connection
    /// mid-job): the job may have run, partly or wholly, already.
    public var redelivered: Bool { facts.redelivered }
    /// When the job was first enqueued.
    public var enqueuedAt: Date? { facts.enqueuedAt }
    /// W3C trace parent from the producer, if any.
    public var traceparent: String? { facts.traceparent }
    /// Logger with the job's metadata (`job.id`, `job.name`, `job.queue`, `job.attempt`, `trace.parent`).
    /// Built on first use: setting metadata is costly with some log handlers, and most jobs never log.
    public var logger: Logger { facts.logger }
    /// Producer for follow-up jobs; the worker's trace middleware makes it stamp this job's trace context.
    public var producer: JobProducer
    /// Where ``progress(_:_:)`` goes; set by a job store's middleware, `nil` without one.
    public var progressReporter: (any JobProgressReporter)?
    /// The cursor checkpoint of an iterable job's attempt (``IterableJob``); `nil` for other jobs.
    var checkpoint: CursorCheckpoint?

    /// Whether the job has been cancelled (timeout or shutdown); long jobs should check it and stop.
    public var isCancelled: Bool { Task.isCancelled }

    /// Enqueues a follow-up job carrying this job's trace context.
    @discardableResult
    public func enqueue<P: JobParameters>(_ job: P, options: EnqueueOptions = EnqueueOptions()) async throws(WarrenError) -> String {
        try await producer.enqueue(job, options: options)
    }

    /// Enqueues a follow-up job by name, carrying this job's trace context.
    @discardableResult
    public func enqueue(name: String, arguments: [UInt8], options: EnqueueOptions = EnqueueOptions()) async throws(WarrenError) -> String {
        try await producer.enqueue(name: name, arguments: arguments, options: options)
    }
}

/// What a job's context knows of the attempt, and its logger, made once, on first use (most jobs never log,
/// and setting metadata costs more than a short job with some log handlers).
private final class Facts: Sendable {
    let jobID: String
    let jobName: String
    let queue: String
    let attempt: Int
    let maxAttempts: Int
    let redelivered: Bool
    let enqueuedAt: Date?
    let traceparent: String?
    private let base: Logger
    private let made = Mutex<Logger?>(nil)

    init(jobID: String, jobName: String, queue: String, attempt: Int, maxAttempts: Int, redelivered: Bool, enqueuedAt: Date?,
         traceparent: String?, base: Logger) {
        (self.jobID, self.jobName, self.queue, self.attempt, self.maxAttempts) = (jobID, jobName, queue, attempt, maxAttempts)
        (self.redelivered, self.enqueuedAt, self.traceparent, self.base) = (redelivered, enqueuedAt, traceparent, base)
    }

    var logger: Logger {
        made.withLock { cached in
            if let cached { return cached }
            var l = base
            l[metadataKey: "job.id"] = "\(jobID)"
            l[metadataKey: "job.name"] = "\(jobName)"
            l[metadataKey: "job.queue"] = "\(queue)"
            l[metadataKey: "job.attempt"] = "\(attempt)"
            if let traceparent { l[metadataKey: "trace.parent"] = "\(traceparent)" }
            cached = l
            return l
        }
    }
}
