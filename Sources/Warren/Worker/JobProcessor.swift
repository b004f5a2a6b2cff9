import Foundation
import Logging
import WarrenAMQP

/// Takes one delivery from receipt to settlement: checks, runs the job, then acks, retries or dead-letters.
/// A retry or dead letter is published with confirms before the delivery is acked.
struct JobProcessor: Sendable {
    let worker: Worker
    let producer: JobProducer
    /// This run's concurrency limits per job.
    let limits: JobLimits
    var config: WorkerConfiguration { worker.configuration }
    var logger: Logger { worker.logger }

    /// Runs one delivery on the runner `runner`. Returns `false` when the job overran its time limit and a
    /// new runner (from `runners`) took over its settlement: the calling runner must then stop.
    func process(_ item: DeliveryBuffer.Item, runner: RunnerHandle, runners: JobRunners) async -> Bool {
        let delivery = item.delivery
        let source = item.source
        if delivery.body.count > config.maxMessageBytes {
            await reject(delivery, source, .oversized,
                         "message body is \(delivery.body.count) bytes; the worker limit is \(config.maxMessageBytes)")
            return true
        }
        let envelope: JobEnvelope
        do throws(JobDecodingError) {
            envelope = try decode(delivery)
        } catch {
            await reject(delivery, source, error.reason, error.description)
            return true
        }
        let now = Date()
        if let expires = envelope.expiresAt, expires < now {
            await deadLetter(delivery, envelope, source, .expired, type: "expired",
                             message: "expired at \(expires) before it could start (now \(now))")
            return true
        }
        if let runAt = envelope.runAt, runAt.timeIntervalSince(now) > 0.002 {
            _ = await publishThenAck(delivery, envelope, queue: source.baseQueue, route: worker.topology.route(
                queue: source.queue, priority: delivery.properties.priority,
                delayMilliseconds: UInt64(runAt.timeIntervalSince(now) * 1000)), outcome: .deferred)
            return true
        }
        guard let definition = worker.registry[envelope.name] else {
            await deadLetter(delivery, envelope, source, .unknownJob, type: "unknown-job",
                             message: "no job named '\(envelope.name)' is registered on this worker (known: \(worker.registry.names.joined(separator: ", ")))")
            worker.observer?.messageRejected(queue: source.baseQueue, reason: .unknownJob)
            return true
        }
        // Over its concurrency limit, the job waits here for a place; at shutdown it is left unacked for the
        // broker to redeliver.
        let limit = limits[envelope.name]
        if let limit, await !limit.acquire() { return true }
        let maxAttempts = envelope.maxAttempts ?? definition.retry?.maxAttempts ?? config.defaultRetry.maxAttempts
        let (id, name, queue, attempt, trace) = (envelope.id, envelope.name, source.baseQueue, envelope.attempt, envelope.traceparent)
        let lazyLogger = JobLogger(base: logger) {
            var metadata: Logger.Metadata = [
                "job.id": "\(id)", "job.name": "\(name)", "job.queue": "\(queue)", "job.attempt": "\(attempt)",
            ]
            if let trace { metadata["trace.parent"] = "\(trace)" }
            return metadata
        }
        let context = JobContext(
            jobID: envelope.id, jobName: envelope.name, queue: source.baseQueue, attempt: envelope.attempt,
            maxAttempts: maxAttempts, redelivered: delivery.redelivered, enqueuedAt: envelope.enqueuedAt,
            traceparent: trace, jobLogger: lazyLogger, producer: producer.tracing(trace))

        worker.observer?.jobStarted(name: envelope.name, queue: source.baseQueue)
        let started = ContinuousClock.now
        let body = envelope.body
        let conclude: @Sendable (AttemptResult) async -> Void = { [self] result in
            limit?.release()  // the attempt is over (or given up on at its time limit)
            await self.conclude(result, delivery, envelope, source, definition, maxAttempts: maxAttempts,
                                logger: lazyLogger, started: started)
        }
        switch await worker.attempts.run(timeout: definition.timeout ?? config.defaultTimeout, cancel: { runner.cancel() },
                                         takeover: { result in runners.spawn(first: { await conclude(result) }) },
                                         { try await definition.run(body, context) }) {
        case .finished(let result):
            await conclude(result)
            return true
        case .takenOver:
            return false
        }
    }

    /// Settles an attempt by its result: ack, retry, dead letter, or (cut short by shutdown) nothing.
    private func conclude(_ result: AttemptResult, _ delivery: AMQPDelivery, _ envelope: JobEnvelope,
                          _ source: DeliveryBuffer.Source, _ definition: JobRegistry.Definition, maxAttempts: Int,
                          logger lazyLogger: JobLogger, started: ContinuousClock.Instant) async {
        let elapsed = ContinuousClock.now - started
        let outcome: JobOutcome
        var failed = true
        if worker.attempts.isAbandoning, case .failed = result {
            // Cut short by shutdown: leave it unacked for redelivery; it did not fail.
            lazyLogger.logger.info("job cancelled by shutdown; the broker will redeliver it")
            worker.observer?.jobFinished(name: envelope.name, queue: source.baseQueue, outcome: .abandoned, failed: false, duration: elapsed)
            return
        }
        switch result {
        case .succeeded:
            failed = false
            outcome = await settle(delivery) { try await delivery.ack() } ? .succeeded : .abandoned
        case .failed(let error as ArgumentsError):
            lazyLogger.logger.error("job arguments do not decode", metadata: ["error": "\(error.message)"])
            outcome = await deadLetter(delivery, envelope, source, error.reason, type: error.reason.rawValue, message: error.message)
        case .failed(let error):
            let type = error.typeName
            let message = "\(error)"
            if !error.isRetryable {
                lazyLogger.logger.error("job failed permanently", metadata: ["error": "\(message)"])
                outcome = await deadLetter(delivery, envelope, source, .nonRetryable, type: type, message: message)
            } else {
                outcome = await retryOrBury(delivery, envelope, source, maxAttempts: maxAttempts,
                                            retry: definition.retry ?? config.defaultRetry, type: type, message: message,
                                            logger: lazyLogger.logger)
            }
        case .timedOut(let limit):
            outcome = await retryOrBury(delivery, envelope, source, maxAttempts: maxAttempts,
                                        retry: definition.retry ?? config.defaultRetry, type: "timeout",
                                        message: "job did not finish within its time limit of \(limit)", logger: lazyLogger.logger)
        }
        worker.observer?.jobFinished(name: envelope.name, queue: source.baseQueue, outcome: outcome, failed: failed, duration: elapsed)
    }

    private func decode(_ delivery: AMQPDelivery) throws(JobDecodingError) -> JobEnvelope {
        let headers = delivery.properties.headers ?? [:]
        if headers[WireFormat.Header.job] == nil {
            for format in config.foreignFormats {
                if let envelope = try format.decode(delivery.properties, delivery.body, worker.registry) { return envelope }
            }
        }
        return try JobEnvelope(properties: delivery.properties, body: delivery.body)
    }

    private func retryOrBury(_ delivery: AMQPDelivery, _ envelope: JobEnvelope, _ source: DeliveryBuffer.Source,
                             maxAttempts: Int, retry: RetryPolicy, type: String, message: String, logger: Logger) async -> JobOutcome {
        guard envelope.attempt < maxAttempts else {
            logger.error("job failed on its last attempt", metadata: ["error": "\(message)", "attempts": "\(maxAttempts)"])
            return await deadLetter(delivery, envelope, source, .exhausted, type: type, message: message)
        }
        let delay = retry.delay(beforeAttempt: envelope.attempt + 1)
        logger.warning("job failed; retrying", metadata: ["error": "\(message)", "retry_in": "\(delay)"])
        let next = envelope.retried(after: failureEntry(envelope, type: type, message: message))
        let route = worker.topology.route(queue: source.queue, priority: delivery.properties.priority,
                                          delayMilliseconds: UInt64(max(1, delay.seconds * 1000)))
        return await publishThenAck(delivery, next, queue: source.baseQueue, route: route, outcome: .retried)
    }

    @discardableResult
    private func deadLetter(_ delivery: AMQPDelivery, _ envelope: JobEnvelope, _ source: DeliveryBuffer.Source,
                            _ reason: DeadLetterReason, type: String, message: String) async -> JobOutcome {
        var dead = envelope.deadLettered(reason: reason, failure: failureEntry(envelope, type: type, message: message))
        if dead.headers[WireFormat.Header.queue] == nil { dead.setHeader(WireFormat.Header.queue, .string(source.baseQueue)) }
        return await publishThenAck(delivery, dead, queue: source.baseQueue, route: (WireFormat.deadExchange, source.baseQueue),
                                    outcome: .deadLettered)
    }

    /// Dead-letters a delivery that is not a readable job, keeping its properties and body untouched.
    private func reject(_ delivery: AMQPDelivery, _ source: DeliveryBuffer.Source, _ reason: DeadLetterReason, _ message: String) async {
        logger.error("dead-lettering unreadable message", metadata: [
            "queue": "\(source.queue)", "reason": "\(reason.rawValue)", "error": "\(message)",
            "message_id": "\(delivery.properties.messageID ?? "-")",
        ])
        let envelope = JobEnvelope(unreadable: delivery.properties, body: delivery.body)
        await deadLetter(delivery, envelope, source, reason, type: reason.rawValue, message: message)
        worker.observer?.messageRejected(queue: source.baseQueue, reason: reason)
    }

    private func failureEntry(_ envelope: JobEnvelope, type: String, message: String) -> FailureRecord.Entry {
        FailureRecord.Entry(attempt: envelope.attempt, type: type, message: message, at: Date(), host: config.hostname)
    }

    /// Publishes `envelope` (confirmed), then acks the delivery. If the publish fails the delivery is not
    /// acked: it is requeued (or redelivered after a connection loss), so nothing is lost.
    private func publishThenAck(_ delivery: AMQPDelivery, _ envelope: JobEnvelope, queue: String,
                                route: (exchange: String, routingKey: String), outcome: JobOutcome) async -> JobOutcome {
        let message = envelope.message(exchange: route.exchange, routingKey: route.routingKey)
        do throws(WarrenError) {
            try await producer.publish(message, id: envelope.id, queue: queue)
        } catch {
            logger.error("could not publish retry/dead letter; leaving the message to the broker",
                         metadata: ["job.id": "\(envelope.id)", "error": "\(error)"])
            _ = await settle(delivery) { try await delivery.nack(requeue: true) }
            try? await Task.sleep(for: .seconds(1))  // do not spin on a broken route
            return .abandoned
        }
        return await settle(delivery) { try await delivery.ack() } ? outcome : .abandoned
    }

    /// Runs an ack/nack; a stale delivery (connection lost meanwhile) is logged: the broker redelivers it.
    private func settle(_ delivery: AMQPDelivery, _ body: () async throws -> Void) async -> Bool {
        do {
            try await body()
            return true
        } catch {
            logger.warning("could not settle delivery; the broker will redeliver it",
                           metadata: ["message_id": "\(delivery.properties.messageID ?? "-")", "error": "\(error)"])
            return false
        }
    }
}
