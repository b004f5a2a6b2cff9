import Foundation
import Logging
import WarrenAMQP

/// Takes one delivery from receipt to settlement: reads it, asks ``JobDecision`` whether to run it, runs
/// it through the middleware chain within its time limit, asks ``JobDecision`` what becomes of it, tells the
/// middlewares, and has ``Settlement`` carry that out. It decides nothing itself.
///
/// A class, not a struct: each job's ``InFlightAttempt`` holds it, and a struct of a dozen reference fields
/// would be copied into every one (a retain and a release of each field, per job).
final class JobProcessor: Sendable {
    let registry: JobRegistry
    let decision: JobDecision
    let formats: [ForeignFormat]
    let middleware: MiddlewareChain
    let settlement: Settlement
    let attempts: AttemptRunner
    /// This run's concurrency limits per job.
    let limits: JobLimits
    /// Where jobs over a limit across workers wait, if any job has one.
    let parking: LeaseParking?
    let defaultTimeout: Duration
    let observer: WorkerObserver?
    let logger: Logger

    init(registry: JobRegistry, decision: JobDecision, formats: [ForeignFormat], middleware: MiddlewareChain,
         settlement: Settlement, attempts: AttemptRunner, limits: JobLimits, parking: LeaseParking?,
         defaultTimeout: Duration, observer: WorkerObserver?, logger: Logger) {
        self.registry = registry
        self.decision = decision
        self.formats = formats
        self.middleware = middleware
        self.settlement = settlement
        self.attempts = attempts
        self.limits = limits
        self.parking = parking
        self.defaultTimeout = defaultTimeout
        self.observer = observer
        self.logger = logger
    }

    /// Starts a new runner whose first work is `settle` (a timed-out job's settlement).
    typealias Takeover = @Sendable (_ settle: @escaping @Sendable () async -> Void) -> Void

    /// What a runner does once ``process(_:runner:takeover:)`` returned.
    enum Step: Sendable {
        /// The delivery is settled (or handed back): take the next.
        case done
        /// The job ran; `settle` settles it and may take a while (``JobMiddleware/settlementWaitsForIO``):
        /// run it off the runner, then count the delivery finished.
        case settleLater(_ settle: @Sendable () async -> Void)
        /// The job ran and its settlement is under way without a task (``JobMiddleware/startSettling(_:completion:)``):
        /// it calls the `settled` given to ``process(_:runner:takeover:settled:)`` once done, with the time
        /// the settlement took after the run.
        case settling
        /// The job overran its time limit and `takeover` started a new runner to settle it: stop.
        case takenOver
    }

    /// Runs one delivery on the runner `runner`; `settled` is called when a settlement returned as
    /// ``Step/settling`` is done, with the time it took after the run.
    nonisolated(nonsending) func process(_ item: DeliveryBuffer.Item, runner: RunnerHandle, takeover: @escaping Takeover,
                 settled: @escaping @Sendable (Duration) -> Void) async -> Step {
        // A batch child in the compact form is read in the header form from here on (retries and dead letters included).
        let delivery = BatchRoute.restoringHeader(item.delivery)
        let source = item.source
        let decoded = delivery.body.count > decision.maxMessageBytes
            ? .failure(JobDecodingError("oversized", reason: .oversized)) : read(delivery)
        let readable = try? decoded.get()
        let definition = readable.flatMap { registry[$0.name] }
        if let disposition = decision.beforeAttempt(bodyBytes: delivery.body.count, decoded: decoded, definition: definition,
                                                    knownJobs: registry.names, now: Date()) {
            await refuse(delivery, decoded, source, disposition)
            return .done
        }
        guard let envelope = readable, let definition else { return .done }  // decided above
        if !item.admitted, let parking, let needs = parking.needs(job: envelope.name, arguments: envelope.body) {
            parking.park(item, needs)  // back, ahead of new deliveries, once it may start
            return .done
        }
        let lease = item.lease
        // Over its concurrency limit, the job waits here for a place; at shutdown it is left unacked for the
        // broker to redeliver.
        let limit = limits[envelope.name]
        if let limit, await !limit.acquire() {
            await lease?.release()
            return .done
        }
        let checkpoint = definition.isIterable ? CursorCheckpoint(headers: envelope.headers) : nil
        var context = context(envelope, delivery, source, definition)
        context.checkpoint = checkpoint
        let attempt = JobAttempt(context: context, arguments: envelope.body, headers: envelope.headers)
        observer?.jobStarted(name: envelope.name, queue: source.baseQueue)
        let started = ContinuousClock.now
        let inFlight = InFlightAttempt(processor: self, delivery: delivery, envelope: envelope, source: source,
                                       definition: definition, attempt: attempt, checkpoint: checkpoint,
                                       started: started, limit: limit, lease: lease, runner: runner,
                                       takeover: takeover)
        let chain = middleware
        switch await attempts.run(timeout: definition.timeout ?? defaultTimeout, started: started, inFlight,
                                  { try await chain.run(attempt) { try await definition.run($0.arguments, $0.context) } }) {
        case .finished(let result):
            await inFlight.release()
            if chain.settlesOffRunner {
                if startConcluding(result, inFlight, settled: settled) { return .settling }
                return .settleLater { await inFlight.settle(result) }
            }
            await inFlight.settle(result)
            return .done
        case .takenOver:
            return .takenOver
        }
    }

    /// Settles a success (to be acked, no cursor to keep) without a task: the middlewares are told through
    /// ``MiddlewareChain/startSettling(_:completion:)`` and the delivery is acked in its completion. If a
    /// middleware could not record the success, ``conclude`` takes over from a task, as it would have.
    /// `false`: not such an attempt, nothing done; ``conclude`` it.
    private func startConcluding(_ result: AttemptResult, _ inFlight: InFlightAttempt,
                                 settled: @escaping @Sendable (Duration) -> Void) -> Bool {
        let (envelope, source, definition) = (inFlight.envelope, inFlight.source, inFlight.definition)
        guard inFlight.checkpoint == nil, case .succeeded(let jobResult) = result,
              case .ack = decision.afterAttempt(result, envelope: envelope, definition: definition,
                                                shuttingDown: attempts.isAbandoning, jitter: 0, cursor: nil) else { return false }
        let ran = ContinuousClock.now
        let elapsed = ran - inFlight.started
        let told = JobSettlement(jobID: envelope.id, jobName: envelope.name, queue: source.baseQueue, attempt: envelope.attempt,
                                 disposition: .ack, result: jobResult, headers: envelope.headers)
        middleware.startSettling(told) { [self] error in
            if let error {
                Task.detached {
                    await self.conclude(result, inFlight, unrecorded: error)
                    settled(ContinuousClock.now - ran)
                }
                return
            }
            let outcome: JobOutcome = settlement.ackNow(inFlight.delivery) ? .succeeded : .abandoned
            observer?.jobFinished(name: envelope.name, queue: source.baseQueue, outcome: outcome, failed: false, duration: elapsed)
            settled(ContinuousClock.now - ran)
        }
        return true
    }

    /// Settles an attempt by its result. `unrecorded`: the middlewares were told the `ack` already
    /// (``startConcluding``) and this error is why one could not record it.
    nonisolated(nonsending) func conclude(_ result: AttemptResult, _ inFlight: InFlightAttempt,
                                          unrecorded: (any Error)? = nil) async {
        let (delivery, source, definition) = (inFlight.delivery, inFlight.source, inFlight.definition)
        let elapsed = ContinuousClock.now - inFlight.started
        let cursor = inFlight.checkpoint?.reached
        var envelope = inFlight.envelope
        if let cursor {  // flushed: a retry or dead letter resumes after the last item that succeeded
            envelope.setHeader(WireFormat.Header.cursor, .string(String(decoding: cursor, as: UTF8.self)))
        }
        // A retry's jitter is drawn only when the attempt did not succeed: the system generator is a
        // getrandom(2) call on Linux, one syscall per job for nothing otherwise.
        var result = result
        var jitter = 0.0
        if case .succeeded = result {} else { jitter = Double.random(in: 0...1) }
        var disposition = decision.afterAttempt(result, envelope: envelope, definition: definition,
                                                shuttingDown: attempts.isAbandoning, jitter: jitter, cursor: cursor)
        var jobResult: JobResult?
        if case .succeeded(let r) = result { jobResult = r }
        var unrecorded = unrecorded
        if case .ack = disposition, unrecorded == nil {
            unrecorded = await tell(disposition, envelope.id, envelope.name, source, envelope.attempt, jobResult, envelope.headers)
        }
        if case .ack = disposition, let failure = unrecorded {
            // A middleware could not record the success: the attempt failed, never acked unrecorded.
            result = .failed(failure)
            jobResult = nil
            disposition = decision.afterAttempt(result, envelope: envelope, definition: definition,
                                                shuttingDown: attempts.isAbandoning, jitter: Double.random(in: 0...1),
                                                cursor: cursor)
        }
        log(disposition, inFlight.attempt.context)
        if disposition != .ack {
            await tell(disposition, envelope.id, envelope.name, source, envelope.attempt, jobResult, envelope.headers)
        }
        let outcome = await settlement.carryOut(disposition, delivery, envelope, source)
        var failed = true
        if case .succeeded = result { failed = false }
        if case .leave = disposition { failed = false }
        if case .interrupt = disposition { failed = false }
        observer?.jobFinished(name: envelope.name, queue: source.baseQueue, outcome: outcome, failed: failed, duration: elapsed)
    }

    /// Settles a delivery that is not run (unreadable, unknown job, expired, not yet due).
    private func refuse(_ delivery: AMQPDelivery, _ decoded: Result<JobEnvelope, JobDecodingError>,
                        _ source: DeliveryBuffer.Source, _ disposition: Disposition) async {
        let envelope: JobEnvelope
        switch decoded {
        case .success(let e):
            envelope = e
        case .failure:
            // Not a readable job: dead-lettered with its properties and body untouched.
            envelope = JobEnvelope(unreadable: delivery.properties, body: delivery.body)
            if case .deadLetter(let reason, let failure) = disposition {
                logger.error("dead-lettering unreadable message", metadata: [
                    "queue": "\(source.queue)", "reason": "\(reason.rawValue)", "error": "\(failure.message)",
                    "message_id": "\(delivery.properties.messageID ?? "-")",
                ])
            }
        }
        let readable = (try? decoded.get()) != nil
        await tell(disposition, readable ? envelope.id : delivery.properties.messageID, readable ? envelope.name : nil,
                   source, envelope.attempt, nil, delivery.properties.headers ?? [:])
        _ = await settlement.carryOut(disposition, delivery, envelope, source)
        if case .deadLetter(let reason, _) = disposition, reason != .expired {
            observer?.messageRejected(queue: source.baseQueue, reason: reason)
        }
    }

    /// Tells the middlewares the settlement. Returns the error of one that could not record an `ack` (the
    /// attempt's failure); an error for another disposition is logged, and `nil` returned.
    @discardableResult
    nonisolated(nonsending) private func tell(_ disposition: Disposition, _ id: String?, _ name: String?, _ source: DeliveryBuffer.Source,
                      _ attempt: Int, _ result: JobResult?, _ headers: FieldTable) async -> (any Error)? {
        let members = middleware.members(for: headers)  // once: none to tell, no settlement made
        guard middleware.anyRuns(members) else { return nil }
        let error = await middleware.willSettle(JobSettlement(jobID: id, jobName: name, queue: source.baseQueue, attempt: attempt,
                                                              disposition: disposition, result: result, headers: headers), members)
        guard let error else { return nil }
        if case .ack = disposition { return error }
        logger.error("a middleware failed before the settlement; settling regardless",
                     metadata: ["job.id": "\(id ?? "-")", "queue": "\(source.baseQueue)", "error": "\(error)"])
        return nil
    }

    private func log(_ disposition: Disposition, _ context: JobContext) {
        switch disposition {
        case .ack, .defer: break
        case .leave:
            context.logger.info("job cancelled by shutdown; the broker will redeliver it")
        case .interrupt(let cursor):
            context.logger.info("iterable job interrupted; republished to resume", metadata: ["cursor": "\(String(decoding: cursor, as: UTF8.self))"])
        case .retry(_, let delay, let failure) where failure.type == RetryLater.typeName:
            context.logger.debug("job waits; running it again later", metadata: ["waiting_for": "\(failure.message)", "retry_in": "\(delay)"])
        case .retry(_, let delay, let failure):
            context.logger.warning("job failed; retrying", metadata: ["error": "\(failure.message)", "retry_in": "\(delay)"])
        case .deadLetter(.exhausted, let failure):
            context.logger.error("job failed on its last attempt", metadata: ["error": "\(failure.message)", "attempts": "\(context.maxAttempts)"])
        case .deadLetter(.invalidArguments, let failure), .deadLetter(.undecodable, let failure):
            context.logger.error("job arguments do not decode", metadata: ["error": "\(failure.message)"])
        case .deadLetter(_, let failure):
            context.logger.error("job failed permanently", metadata: ["error": "\(failure.message)"])
        }
    }

    /// Reads a delivery as a Warren job, or as the first foreign format that recognises it.
    private func read(_ delivery: AMQPDelivery) -> Result<JobEnvelope, JobDecodingError> {
        do throws(JobDecodingError) {
            if WireFormat.jobName(delivery.properties) == nil {
                for format in formats {
                    if let envelope = try format.decode(delivery.properties, delivery.body, registry) { return .success(envelope) }
                }
            }
            return .success(try JobEnvelope(properties: delivery.properties, body: delivery.body))
        } catch {
            return .failure(error)
        }
    }

    private func context(_ envelope: JobEnvelope, _ delivery: AMQPDelivery, _ source: DeliveryBuffer.Source,
                         _ definition: JobRegistry.Definition) -> JobContext {
        JobContext(
            jobID: envelope.id, jobName: envelope.name, queue: source.baseQueue, attempt: envelope.attempt,
            maxAttempts: decision.maxAttempts(envelope, definition), redelivered: delivery.redelivered,
            enqueuedAt: envelope.enqueuedAt, traceparent: envelope.traceparent, logger: logger,
            producer: settlement.producer, progressReporter: nil)
    }
}
