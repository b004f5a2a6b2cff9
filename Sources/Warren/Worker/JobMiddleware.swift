import WarrenAMQP

/// Surrounds every attempt of every job a worker runs: the place for behaviour that cuts across jobs (trace
/// context, state tracking, unique keys, global limits, workflows).
///
/// A worker's middlewares form a chain in the order given to ``Worker/init(connection:registry:topology:configuration:middleware:observer:logger:)``:
/// the first is the outermost. Each ``handle(_:next:)`` calls `next` to run the rest of the chain and then
/// the job, and may change what goes in (the attempt's context) or what comes out (the result), or throw.
///
/// Threading: the methods are called from the worker's job runners (Swift tasks), many at once, and
/// ``startSettling(_:completion:)`` also from wherever the completion of the middleware inside it runs; a
/// middleware must be thread-safe. They run inside the attempt's time limit (``handle(_:next:)``) or just
/// before the delivery is settled (``willSettle(_:)``, ``startSettling(_:completion:)``), so keep them
/// quick; never block a thread.
///
/// At-least-once: ``willSettle(_:)`` is awaited before the worker publishes a retry or dead letter and acks
/// the delivery. What a middleware records there happens before the ack: a worker killed in between repeats
/// it on redelivery, never skips it. A middleware that cannot record a success throws from
/// ``willSettle(_:)``, and the delivery is not acked: the attempt fails (see there).
public protocol JobMiddleware: Sendable {
    /// Runs around one attempt. Call `next` once to run the rest of the chain and the job, and return its
    /// result (or another); an error thrown here is the attempt's failure, retried or dead-lettered by the
    /// job's retry policy like an error of the job itself.
    func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult

    /// Told how a delivery is about to be settled, for every delivery: those that ran (succeeded, retried,
    /// dead-lettered, left to the broker at shutdown) and those dead-lettered or deferred before any attempt
    /// (unreadable, unknown job, expired, not yet due). Awaited before the settlement is carried out.
    ///
    /// Order: innermost first (the last of the chain first), as results come out of ``handle(_:next:)``:
    /// an outer middleware (a store's ``JobTracker``) hears a settlement once the inner ones (batches,
    /// workflows) have carried out their part of it.
    ///
    /// Throwing: an error thrown for a settlement that would ack (``Disposition/ack``) is the attempt's
    /// failure: the worker asks its retry policy again with that error (retried with backoff, or
    /// dead-lettered on the last attempt) and tells every middleware the new settlement, so the delivery
    /// is never acked unrecorded. The middlewares outside the one that threw are never told the `ack`
    /// (a tracker never records a success that did not happen); those inside it were, and are told the
    /// new settlement next. An error for any other disposition is logged and the settlement goes ahead (a
    /// middleware retries what it must record there itself, as ``BatchMiddleware`` does for a dead child).
    func willSettle(_ settlement: JobSettlement) async throws

    /// Whether ``willSettle(_:)`` waits for I/O for every job (a store commit, say). If any middleware of a
    /// worker does, the worker settles the attempts that ran off their runner: the runner takes its next job
    /// at once, and the delivery stays unacked (holding a prefetch place, not a runner) until ``willSettle(_:)``
    /// returned (or ``startSettling(_:completion:)``'s completion was called) and the settlement is carried
    /// out. Graceful shutdown waits for those settlements too.
    /// Read once, when the worker is made. Default `false`.
    var settlementWaitsForIO: Bool { get }

    /// ``willSettle(_:)`` without the worker awaiting it, for a worker that settles off its runners: it then
    /// needs no task per job. Return:
    /// - ``SettlementStart/done`` when there is nothing to record for `settlement` (it was handled here);
    /// - ``SettlementStart/started`` after arranging for `completion` to be called exactly once, from any
    ///   thread, with what ``willSettle(_:)`` would have thrown (or `nil`), once it is recorded;
    /// - ``SettlementStart/useWillSettle`` (the default), having done nothing: ``willSettle(_:)`` is awaited
    ///   instead, from a task.
    ///
    /// `completion` settles the delivery (and tells the middlewares outside this one): never block in it
    /// and call it promptly. The guarantees of ``willSettle(_:)`` hold alike.
    func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) -> SettlementStart
}

/// How ``JobMiddleware/startSettling(_:completion:)`` took a settlement.
public enum SettlementStart: Sendable, Hashable {
    /// Nothing to record: the next middleware is told at once.
    case done
    /// Recording; the completion will be called once it is done.
    case started
    /// Nothing done: await ``JobMiddleware/willSettle(_:)`` instead.
    case useWillSettle
}

extension JobMiddleware {
    /// Default: `false`.
    public var settlementWaitsForIO: Bool { false }

    /// Default: runs the job unchanged.
    public func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        try await next(attempt)
    }

    /// Default: nothing.
    public func willSettle(_ settlement: JobSettlement) async throws {}

    /// Default: ``SettlementStart/useWillSettle``.
    public func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) -> SettlementStart {
        .useWillSettle
    }
}

/// One attempt of a job, as middleware sees it.
public struct JobAttempt: Sendable {
    /// The job's context (id, name, queue, attempt, logger, producer); a middleware may replace its producer
    /// or progress reporter before calling `next`.
    public var context: JobContext
    /// The job's JSON arguments, as received.
    public let arguments: [UInt8]
    /// The message's headers (Warren's `warren-*` headers and any the producer added).
    public let headers: FieldTable

    /// Creates an attempt (the worker does; tests of a middleware may too).
    public init(context: JobContext, arguments: [UInt8], headers: FieldTable) {
        self.context = context
        self.arguments = arguments
        self.headers = headers
    }
}

/// What a job returned: its result as JSON, or nothing (a handler returning `Void`).
public struct JobResult: Sendable, Hashable {
    /// The result encoded as JSON, or `nil` when the job returns nothing.
    public var json: [UInt8]?

    /// A result of `json` bytes.
    public init(json: [UInt8]?) { self.json = json }

    /// No result.
    public static let none = JobResult(json: nil)
}

/// How a delivery is about to be settled, told to ``JobMiddleware/willSettle(_:)``.
public struct JobSettlement: Sendable {
    /// The job's id; for an unreadable message, its `message_id` if any.
    public let jobID: String?
    /// The job's name, when it could be read.
    public let jobName: String?
    /// The work queue (without lane suffix).
    public let queue: String
    /// The attempt that ran (or would have run), 1-based.
    public let attempt: Int
    /// What the worker decided.
    public let disposition: Disposition
    /// The job's result, when it succeeded.
    public let result: JobResult?
    /// The message's headers as received.
    public let headers: FieldTable
}
