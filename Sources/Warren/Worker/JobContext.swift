import Foundation
import Logging
import Synchronization
import WarrenAMQP

/// What a running job knows about itself, and how it enqueues follow-up jobs.
public struct JobContext: Sendable {
    /// The fields fixed for the attempt, boxed (``CopyOnWrite``): the context travels in the attempt through
    /// every middleware, the handler and the settlement; a copy is one retain instead of one per field. What
    /// middlewares set per attempt (producer, progress reporter, checkpoint) is stored beside the box, so
    /// setting it never copies the box.
    private let storage: CopyOnWrite<Fields>

    struct Fields: Sendable {
        let jobID: String
        let jobName: String
        let queue: String
        let attempt: Int
        let maxAttempts: Int
        let redelivered: Bool
        let enqueuedAt: Date?
        let traceparent: String?
        let jobLogger: JobLogger
    }

    init(jobID: String, jobName: String, queue: String, attempt: Int, maxAttempts: Int, redelivered: Bool, enqueuedAt: Date?,
         traceparent: String?, jobLogger: JobLogger, producer: JobProducer, progressReporter: (any JobProgressReporter)?,
         checkpoint: CursorCheckpoint? = nil) {
        storage = CopyOnWrite(Fields(jobID: jobID, jobName: jobName, queue: queue, attempt: attempt, maxAttempts: maxAttempts,
                                     redelivered: redelivered, enqueuedAt: enqueuedAt, traceparent: traceparent,
                                     jobLogger: jobLogger))
        self.producer = producer
        self.progressReporter = progressReporter
        self.checkpoint = checkpoint
    }

    /// Job id (message id).
    public var jobID: String { storage.value.jobID }
    /// Job name.
    public var jobName: String { storage.value.jobName }
    /// Work queue it came from.
    public var queue: String { storage.value.queue }
    /// 1-based attempt number.
    public var attempt: Int { storage.value.attempt }
    /// Attempts allowed in all.
    public var maxAttempts: Int { storage.value.maxAttempts }
    /// The broker delivered this message before without an ack (a worker died or lost its connection
    /// mid-job): the job may have run, partly or wholly, already.
    public var redelivered: Bool { storage.value.redelivered }
    /// When the job was first enqueued.
    public var enqueuedAt: Date? { storage.value.enqueuedAt }
    /// W3C trace parent from the producer, if any.
    public var traceparent: String? { storage.value.traceparent }
    /// Logger with the job's metadata (`job.id`, `job.name`, `job.queue`, `job.attempt`, `trace.parent`).
    /// Built on first use: setting metadata is costly with some log handlers, and most jobs never log.
    public var logger: Logger { storage.value.jobLogger.logger }
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

/// A job's logger, made once, on first use.
final class JobLogger: Sendable {
    private let base: Logger
    private let metadata: @Sendable () -> Logger.Metadata
    private let made = Mutex<Logger?>(nil)

    /// `metadata` runs on first use only: most jobs never log, and building it costs more than a short job.
    init(base: Logger, metadata: @escaping @Sendable () -> Logger.Metadata) {
        self.base = base
        self.metadata = metadata
    }

    var logger: Logger {
        made.withLock { cached in
            if let cached { return cached }
            var l = base
            for (key, value) in metadata() { l[metadataKey: key] = value }
            cached = l
            return l
        }
    }
}
