import Logging
import WarrenAMQP

/// Runs the fan-in of batches on a worker: the job middleware that, for a child of a batch (a message
/// with the ``WorkflowHeader/batch`` header), records how it ended in the ledger and publishes the
/// callbacks that became due (``BatchCoordinator``), with confirms, before the child is acked.
///
/// Guarantees (docs/workflows.md, "Batches"):
/// - A child that succeeded is recorded as its `ack` is settled (``startSettling(_:completion:)``, or
///   ``willSettle(_:)`` where the worker awaits that), after the job returned and before the ack; a kill in
///   between runs it again, and it counts once (recorded by child id). If recording or a callback's publish
///   fails (or a callback stays held past its lease), the settlement gets the error: the attempt fails and is
///   retried (dead-lettered on its last attempt, then recorded dead), never acked unrecorded. With a
///   ledger, ``settlementWaitsForIO`` is `true`: the worker settles off its runners, so the ledger's group
///   commit holds up to the prefetch's outcomes while the runners go on.
/// - A child dead-lettered (after its retries, or before running: unknown job, unreadable arguments) is
///   recorded dead in ``willSettle(_:)``, before the dead letter is acked, so the batch never waits for it.
/// - A malformed batch header dead-letters the child as `undecodable` without running it; so does a
///   worker without a job store (`ledger` nil) for every batch child, as `non-retryable`, naming
///   `WARREN_STORE`, rather than run it unrecorded (requeue it to a worker with a store).
/// - A callback held by a claimant that may be publishing it is waited for, up to its lease.
public final class BatchMiddleware: JobMiddleware {
    private let ledger: (any BatchLedger)?
    private let ownProducer: OwnProducer
    private let lease: Duration
    private let logger: Logger

    /// A middleware recording into `ledger` (a job store's ``JobStore/batchLedger``); callbacks of dead
    /// children go out on its own confirm channel of `connection`. `lease`: how long a callback claim holds
    /// (longer than a publish may take). Default 60 s.
    public init(ledger: (any BatchLedger)?, connection: AMQPConnection, topology: Topology = Topology(), lease: Duration = .seconds(60),
                logger: Logger = Logger(label: "warren.batch")) {
        self.ledger = ledger
        self.ownProducer = OwnProducer(connection: connection, topology: topology)
        self.lease = lease
        self.logger = logger
    }

    public func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        guard let value = attempt.headers[WorkflowHeader.batch] else { return try await next(attempt) }
        let batch = try BatchMembership.batchID(header: value)
        guard let ledger else { throw BatchNeedsStore(batch: batch) }
        let context = attempt.context
        let membership = BatchMembership(batch: batch, child: context.jobID, ledger: ledger, producer: context.producer, queue: context.queue)
        return try await BatchMembership.$current.withValue(membership) { try await next(attempt) }
    }

    /// `true` with a ledger: a child's success waits for the ledger's group commit (``startSettling(_:completion:)``).
    public var settlementWaitsForIO: Bool { ledger != nil }

    /// Nothing to do for a job outside any batch. A batch child's success is recorded by the ledger's group
    /// commit without a task (``BatchLedger/startFinish(child:in:outcome:completion:)``); only a snapshot
    /// that leaves something to fire (the batch's last children) takes a task, to publish it with confirms.
    /// A dead child is ``willSettle(_:)``'s. Either way the completion gets an error, and the attempt
    /// fails, when the outcome could not be recorded or a callback not published.
    public func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) -> SettlementStart {
        guard let value = settlement.headers[WorkflowHeader.batch], let child = settlement.jobID, let ledger else { return .done }
        switch settlement.disposition {
        case .ack: break
        case .deadLetter: return .useWillSettle
        default: return .done
        }
        // Ran, so its header was read in handle(_:next:); willSettle throws the same error if not.
        guard let batch = try? BatchMembership.batchID(header: value) else { return .useWillSettle }
        ledger.startFinish(child: child, in: batch, outcome: .succeeded) { [self] result in
            switch result {
            case .failure(let error): completion(error)
            case .success(let snapshot) where !FanIn.hasWork(snapshot): completion(nil)
            case .success(let snapshot):
                Task {
                    do {
                        try await fire(after: snapshot, child: child, in: batch, ledger: ledger, queue: settlement.queue)
                        completion(nil)
                    } catch {
                        completion(error)
                    }
                }
            }
        }
        return .started
    }

    /// Fires what `snapshot` (the ledger's, after `child`'s success was recorded) made due; while a callback
    /// is held by another claimant, records the child again (a no-op but for the fresh snapshot) and retries.
    private func fire(after snapshot: BatchSnapshot, child: String, in batch: String, ledger: any BatchLedger, queue: String) async throws {
        guard FanIn.hasWork(snapshot) else { return }
        let coordinator = BatchMembership.coordinator(ledger: ledger, producer: try await ownProducer.get(), queue: queue, lease: lease)
        var first: BatchSnapshot? = snapshot
        try await BatchMembership.waitingOutHeld(lease: lease) {
            if let s = first {
                first = nil
                try await coordinator.fire(after: s, child: child)
            } else {
                try await coordinator.finished(child: child, in: batch, outcome: .succeeded)
            }
        }
    }

    public func willSettle(_ settlement: JobSettlement) async throws {
        guard let value = settlement.headers[WorkflowHeader.batch], let child = settlement.jobID, let ledger else { return }
        switch settlement.disposition {
        case .ack:
            // Ran, so its header was read in handle(_:next:). Throws: the attempt fails, not acked.
            let batch = try BatchMembership.batchID(header: value)
            let snapshot = try await ledger.finish(child: child, in: batch, outcome: .succeeded)
            try await fire(after: snapshot, child: child, in: batch, ledger: ledger, queue: settlement.queue)
        case .deadLetter:
            guard let batch = try? BatchMembership.batchID(header: value) else { return }  // malformed: dead-lettered as such
            await recordDead(child, in: batch, ledger: ledger, queue: settlement.queue)
        default:
            return
        }
    }

    /// Records a dead child. Bounded: a store or broker outage is retried for about a lease, then logged (the
    /// dead letter keeps its batch header: requeueing it records it again).
    private func recordDead(_ child: String, in batch: String, ledger: any BatchLedger, queue: String) async {
        let deadline = ContinuousClock.now + lease + .seconds(5)
        var failure: (any Error)?
        repeat {
            do {
                let coordinator = BatchMembership.coordinator(ledger: ledger, producer: try await ownProducer.get(), queue: queue,
                                                              lease: lease)
                try await coordinator.finished(child: child, in: batch, outcome: .dead)
                return
            } catch let refused as BatchLedgerError {
                failure = refused
                break
            } catch {
                failure = error
                try? await Task.sleep(for: .milliseconds(500))
            }
        } while ContinuousClock.now < deadline
        logger.error("could not record a dead batch child; requeue its dead letter to record it",
                     metadata: ["job.id": "\(child)", "batch": "\(batch)", "error": "\(failure.map { "\($0)" } ?? "-")"])
    }
}

/// A batch child reached a worker without a job store: dead-lettered (non-retryable) rather than run
/// unrecorded, which would leave its batch waiting.
public struct BatchNeedsStore: Error, Sendable, CustomStringConvertible, NonRetryableError {
    /// The batch.
    public var batch: String
    public var description: String {
        "\(StoreError.notConfigured("batch \(batch)").message); requeue this dead letter to a worker with WARREN_STORE set"
    }
}

extension BatchMiddleware: HeaderGatedMiddleware {
    /// Only a batch's child has anything to record.
    var gatingHeaders: [String] { [WorkflowHeader.batch] }
}
