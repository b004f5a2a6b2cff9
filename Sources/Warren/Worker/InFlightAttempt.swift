import WarrenAMQP

/// One attempt from its start to its settlement, made once per job: what the settlement needs (the delivery,
/// its envelope and source, the job's definition, the attempt and its checkpoint, when it started) and what
/// the attempt holds (a concurrency-limit place, a global-limit lease). The time limit's monitor holds it as
/// a ``TimedAttempt``; the runner releases and settles through it. (A closure for each of these uses captured
/// a dozen of the values, each retained per closure per job.)
final class InFlightAttempt: TimedAttempt {
    let processor: JobProcessor
    let delivery: AMQPDelivery
    let envelope: JobEnvelope
    let source: DeliveryBuffer.Source
    let definition: JobRegistry.Definition
    let attempt: JobAttempt
    let checkpoint: CursorCheckpoint?
    let started: ContinuousClock.Instant
    private let limit: ConcurrencyLimit?
    private let lease: Lease?
    private let runner: RunnerHandle
    private let takeover: JobProcessor.Takeover

    init(processor: JobProcessor, delivery: AMQPDelivery, envelope: JobEnvelope, source: DeliveryBuffer.Source,
         definition: JobRegistry.Definition, attempt: JobAttempt, checkpoint: CursorCheckpoint?, started: ContinuousClock.Instant,
         limit: ConcurrencyLimit?, lease: Lease?, runner: RunnerHandle, takeover: @escaping JobProcessor.Takeover) {
        (self.processor, self.delivery, self.envelope, self.source, self.definition) = (processor, delivery, envelope, source, definition)
        (self.attempt, self.checkpoint, self.started) = (attempt, checkpoint, started)
        (self.limit, self.lease, self.runner, self.takeover) = (limit, lease, runner, takeover)
    }

    /// The attempt is over (or given up on at its time limit): its limit's place and its lease go back.
    nonisolated(nonsending) func release() async {
        limit?.release()
        await lease?.release()
    }

    /// Settles the attempt by its result (``JobProcessor``'s conclusion).
    nonisolated(nonsending) func settle(_ result: AttemptResult) async {
        await processor.conclude(result, self)
    }

    func cancel() { runner.cancel() }

    func takeOver(_ result: AttemptResult) {
        takeover { [self] in
            await release()
            await settle(result)
        }
    }
}
