import Foundation
import Logging
import WarrenAMQP

/// Carries out a ``Disposition`` for one delivery: publishes what replaces it (a retry, a dead letter, a
/// deferred copy, an interrupted job with its cursor) with confirms, and only then acks it; or leaves it to the broker. If the publish fails
/// the delivery is nacked back to its queue, never acked: nothing is lost.
struct Settlement: Sendable {
    let producer: JobProducer
    let topology: Topology
    let hostname: String
    let logger: Logger

    /// Settles `delivery` (read as `envelope`, from `source`) as `disposition` says; returns what reached
    /// the broker (``JobOutcome/abandoned`` when nothing did).
    nonisolated(nonsending) func carryOut(_ disposition: Disposition, _ delivery: AMQPDelivery, _ envelope: JobEnvelope,
                  _ source: DeliveryBuffer.Source) async -> JobOutcome {
        switch disposition {
        case .ack:
            return await settle(delivery) { try await delivery.ack() } ? .succeeded : .abandoned
        case .leave:
            return .abandoned
        case .defer(let delay):
            return await publishThenAck(delivery, envelope, queue: source.baseQueue,
                                        route: route(source, delivery, delay), outcome: .deferred)
        case .retry(_, let delay, let failure):
            let next = envelope.retried(after: entry(envelope, failure))
            return await publishThenAck(delivery, next, queue: source.baseQueue,
                                        route: route(source, delivery, max(delay, .milliseconds(1))), outcome: .retried)
        case .interrupt(let cursor):
            // Same attempt, straight back to its queue (lane and priority kept), carrying where to resume.
            var next = envelope
            next.setHeader(WireFormat.Header.cursor, .string(String(decoding: cursor, as: UTF8.self)))
            return await publishThenAck(delivery, next, queue: source.baseQueue,
                                        route: route(source, delivery, .zero), outcome: .interrupted)
        case .deadLetter(let reason, let failure):
            var dead = envelope.deadLettered(reason: reason, failure: entry(envelope, failure))
            if dead.headers[WireFormat.Header.queue] == nil { dead.setHeader(WireFormat.Header.queue, .string(source.baseQueue)) }
            return await publishThenAck(delivery, dead, queue: source.baseQueue,
                                        route: (WireFormat.deadExchange, source.baseQueue), outcome: .deadLettered)
        }
    }

    /// The delay-level route back to `source`'s queue after `delay`.
    private func route(_ source: DeliveryBuffer.Source, _ delivery: AMQPDelivery, _ delay: Duration) -> (exchange: String, routingKey: String) {
        topology.route(queue: source.queue, priority: delivery.properties.priority,
                       delayMilliseconds: UInt64(max(0, delay.seconds * 1000)))
    }

    private func entry(_ envelope: JobEnvelope, _ failure: FailureInfo) -> FailureRecord.Entry {
        FailureRecord.Entry(attempt: envelope.attempt, type: failure.type, message: failure.message, at: Date(), host: hostname)
    }

    /// Publishes `envelope` (confirmed), then acks the delivery. If the publish fails the delivery is not
    /// acked: it is requeued (or redelivered after a connection loss), so nothing is lost.
    private func publishThenAck(_ delivery: AMQPDelivery, _ envelope: JobEnvelope, queue: String,
                                route: (exchange: String, routingKey: String), outcome: JobOutcome) async -> JobOutcome {
        let message = envelope.message(exchange: route.exchange, routingKey: route.routingKey)
        do throws(WarrenError) {
            try await producer.publish(message, id: envelope.id, queue: queue)
        } catch {
            logger.error("could not publish retry/dead letter/interrupted job; leaving the message to the broker",
                         metadata: ["job.id": "\(envelope.id)", "error": "\(error)"])
            _ = await settle(delivery) { try await delivery.nack(requeue: true) }
            try? await Task.sleep(for: .seconds(1))  // do not spin on a broken route
            return .abandoned
        }
        return await settle(delivery) { try await delivery.ack() } ? outcome : .abandoned
    }

    /// Acks `delivery` without suspending (``AMQPDelivery/ackNow(multiple:)``), for a settlement completed in
    /// a callback; `false` (logged) when it is stale, as ``carryOut(_:_:_:_:)`` does.
    func ackNow(_ delivery: AMQPDelivery) -> Bool {
        do {
            try delivery.ackNow()
            return true
        } catch {
            logStale(delivery, error)
            return false
        }
    }

    private func logStale(_ delivery: AMQPDelivery, _ error: any Error) {
        logger.warning("could not settle delivery; the broker will redeliver it",
                       metadata: ["message_id": "\(delivery.properties.messageID ?? "-")", "error": "\(error)"])
    }

    /// Runs an ack/nack; a stale delivery (connection lost meanwhile) is logged: the broker redelivers it.
    nonisolated(nonsending) private func settle(_ delivery: AMQPDelivery, _ body: nonisolated(nonsending) () async throws -> Void) async -> Bool {
        do {
            try await body()
            return true
        } catch {
            logStale(delivery, error)
            return false
        }
    }
}
