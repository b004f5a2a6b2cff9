import Foundation
import Logging
import Synchronization
import WarrenAMQP

/// Runs chains, sagas and Celery canvas callbacks: the job middleware that reads a step's itinerary
/// (``WorkflowHeader/itinerary``) or Celery canvas (``WorkflowHeader/celeryCanvas``), gives the job its
/// previous result, and publishes what comes next (``WorkflowAdvance``, ``CeleryCanvas``).
///
/// Guarantees (docs/workflows.md):
/// - A step's successor is published with confirms inside ``handle(_:next:)``, after the job returned and
///   before the worker acks the step: a kill in between runs the step again and publishes the same
///   successor id again (a duplicate), never loses it. If the publish fails, the attempt fails and is
///   retried. A successor that is a group followed by more steps is opened as a batch in `ledger` first
///   (its success callback continues the workflow; workers also need ``BatchMiddleware``).
/// - When a step is dead-lettered, its compensations or on-failure job are published in ``willSettle(_:)``,
///   before the dead letter is acked; the dead letter keeps its itinerary, so requeueing it resumes the
///   workflow.
/// - A header task of a Celery chord runs as a plain job whose result the job store records (the chord's
///   `celery.chord_unlock` publishes the body, ``CeleryChordUnlock``); without a store (`ledger` nil) it is
///   dead-lettered `non-retryable` naming `WARREN_STORE` (``CeleryChordNeedsStore``) without running.
/// - A malformed itinerary dead-letters the step as `undecodable` without running it.
/// - A copy of a step this process already completed is acked without running; a copy arriving while the
///   first runs here waits for it (see ``RecentSteps``).
///
/// A job without workflow headers passes straight through (two header lookups).
public final class WorkflowMiddleware: JobMiddleware {
    private let logger: Logger
    private let recent: RecentSteps
    private let itineraries = ItineraryCache(capacity: 256)
    private let ownProducer: OwnProducer
    private let skipped = Atomic<Int>(0)
    private let ledger: (any BatchLedger)?
    private let lease: Duration

    /// A middleware publishing failure paths on its own confirm channel of `connection` (opened on first
    /// use); `rememberedSteps` is how many completed step ids it keeps to skip second copies. Default 10,000.
    /// `ledger` (a job store's ``JobStore/batchLedger``) opens the batch of a group followed by more steps;
    /// without it such a step is dead-lettered naming `WARREN_STORE` (``WorkflowFanInNeedsStore``). `lease`:
    /// how long a batch callback claim holds (``BatchCoordinator/lease``).
    public init(connection: AMQPConnection, topology: Topology = Topology(), ledger: (any BatchLedger)? = nil,
                lease: Duration = .seconds(60), rememberedSteps: Int = 10_000, logger: Logger = Logger(label: "warren.workflow")) {
        self.logger = logger
        self.ledger = ledger
        self.lease = lease
        self.recent = RecentSteps(capacity: rememberedSteps)
        self.ownProducer = OwnProducer(connection: connection, topology: topology)
    }

    /// Second copies of completed steps acked without running, since start.
    public var skippedDuplicates: Int { skipped.load(ordering: .relaxed) }

    public func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        if let value = attempt.headers[WorkflowHeader.itinerary] { return try await step(attempt, value, next) }
        if let value = attempt.headers[WorkflowHeader.celeryCanvas] { return try await celery(attempt, value, next) }
        return try await next(attempt)
    }

    private func step(_ attempt: JobAttempt, _ value: FieldValue,
                      _ next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        let itinerary: Itinerary
        do { itinerary = try itineraries.itinerary(value) } catch {
            throw ArgumentsError(reason: .undecodable, message: error.description)
        }
        let context = attempt.context
        if await recent.begin(context.jobID) == .completed {
            skipped.add(1, ordering: .relaxed)
            context.logger.info("workflow step already completed by this worker: acked without running again")
            return .none
        }
        let info = WorkflowStepInfo(workflowID: itinerary.workflowID, kind: itinerary.kind, step: itinerary.step,
                                    steps: itinerary.steps, previousResult: itinerary.previousResult.map { Array($0.utf8) })
        let result = try await WorkflowStepInfo.$current.withValue(info) { try await next(attempt) }
        let planned = try WorkflowAdvance.afterSuccess(itinerary, result: result.json, queue: context.queue)
        try await context.producer.publish(planned, ledger: ledger, lease: lease)
        return result
    }

    private func celery(_ attempt: JobAttempt, _ value: FieldValue,
                        _ next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        let canvas: CeleryCanvas
        do { canvas = try CeleryCanvas(header: value) } catch {
            throw ArgumentsError(reason: .undecodable, message: error.description)
        }
        if canvas.isChordHeader, ledger == nil { throw CeleryChordNeedsStore(task: attempt.context.jobName, id: attempt.context.jobID) }
        let result = try await next(attempt)
        let messages = try canvas.afterSuccess(result: result.json, parent: attempt.context.jobID, headers: attempt.headers,
                                               queue: attempt.context.queue)
        for m in messages { try await attempt.context.producer.publisher.publish(m.message, id: m.id, queue: m.queue) }
        return result
    }

    /// Nothing to do for a job outside any workflow; a step's settlement is ``willSettle(_:)``'s.
    public func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) -> SettlementStart {
        let headers = settlement.headers
        return headers[WorkflowHeader.itinerary] == nil && headers[WorkflowHeader.celeryCanvas] == nil ? .done : .useWillSettle
    }

    public func willSettle(_ settlement: JobSettlement) async {
        let headers = settlement.headers
        guard let value = headers[WorkflowHeader.itinerary] ?? headers[WorkflowHeader.celeryCanvas] else { return }
        let isItinerary = headers[WorkflowHeader.itinerary] != nil
        if isItinerary, let id = settlement.jobID {
            if case .ack = settlement.disposition { recent.finish(id, completed: true) } else { recent.finish(id, completed: false) }
        }
        switch settlement.disposition {
        case .deadLetter(_, let failure):
            await died(settlement, value, isItinerary: isItinerary, failure: failure)
        default:
            break
        }
    }

    /// Publishes a dead step's failure path. A failure to publish is logged: the dead letter keeps the
    /// itinerary, and requeueing it runs the step (and, should it die again, its failure path) again.
    private func died(_ settlement: JobSettlement, _ value: FieldValue, isItinerary: Bool, failure: FailureInfo) async {
        do {
            let producer = try await ownProducer.get()
            if isItinerary {
                guard let itinerary = try? Itinerary(header: value) else { return }  // malformed: dead-lettered as such
                let planned = WorkflowAdvance.afterDeath(itinerary, jobName: settlement.jobName ?? "?", failure: failure,
                                                         queue: settlement.queue)
                try await producer.publish(try planned.map { try $0.request() })
            } else {
                guard let canvas = try? CeleryCanvas(header: value) else { return }
                for m in try canvas.afterDeath(parent: settlement.jobID ?? "", headers: settlement.headers, queue: settlement.queue) {
                    try await producer.publisher.publish(m.message, id: m.id, queue: m.queue)
                }
            }
        } catch {
            logger.error("could not publish a dead workflow step's failure path; requeue its dead letter to retry",
                         metadata: ["job.id": "\(settlement.jobID ?? "-")", "error": "\(error)"])
        }
    }
}

/// A header task of a Celery chord reached a worker without a job store: dead-lettered (non-retryable)
/// rather than run, since its result would be recorded nowhere and the chord's body would never run.
public struct CeleryChordNeedsStore: Error, Sendable, CustomStringConvertible, NonRetryableError {
    /// The Celery task name.
    public var task: String
    /// The task id.
    public var id: String
    public var description: String {
        "\(StoreError.notConfigured("Celery task '\(task)' (\(id)), a header task of a chord,").message); requeue this dead letter to a "
            + "worker with WARREN_STORE set (chords run on Swift workers with a store and a Celery result backend without native "
            + "join, such as db+ or file://; Redis chords are not supported: docs/workflows.md)"
    }
}

extension WorkflowMiddleware: HeaderGatedMiddleware {
    /// Only a workflow's step (an itinerary, or a Celery canvas) has anything to run or publish.
    var gatingHeaders: [String] { [WorkflowHeader.itinerary, WorkflowHeader.celeryCanvas] }
}
