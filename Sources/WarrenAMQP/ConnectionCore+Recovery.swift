import CRabbitMQ

extension ConnectionCore {
    /// The connection is gone: fail what was in flight, and schedule recovery (or give up).
    ///
    /// Deliveries received on the dead connection can no longer be settled (their channel epoch changed):
    /// the broker requeues them, and acking them on the new connection would ack different messages.
    func connectionFailed(_ error: AMQPError) {
        guard case .connected(let c, let endpoint) = link else { return }
        amqp_destroy_connection(c)
        link = .idle
        shared.update { $0.connected = false }
        logger.warning("connection lost", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
        let lost = AMQPError(.connectionLost,
                             "connection lost before the broker answered; a publish may or may not have arrived",
                             replyCode: error.replyCode, replyText: error.replyText)
        for ch in channels.values { ch.invalidate(lost) }
        shared.emit(.disconnected(error))
        if config.recovery.enabled {
            link = .reconnecting(attempt: 0, due: ContinuousClock.now + config.recovery.backoff.delay(attempt: 1))
        } else {
            giveUp(error)
        }
    }

    /// No more recovery: consumers end with the error; the connection stays unusable.
    private func giveUp(_ error: AMQPError) {
        link = .failed(error)
        for ch in channels.values {
            ch.closeError = error
            for consumer in ch.consumers.values { consumer.sink.finish(throwing: error) }
            ch.consumers.removeAll()
        }
        shared.emit(.failed(error))
    }

    /// Until when the loop sleeps while not connected: the next reconnect attempt, a second at most.
    func reconnectSleepDeadline() -> ContinuousClock.Instant {
        let second = ContinuousClock.now + .seconds(1)
        guard case .reconnecting(_, let next) = link else { return second }
        return min(next, second)
    }

    /// One reconnection attempt, when its time has come: connect, then restore channels, topology, consumers.
    func reconnectIfDue() {
        guard case .reconnecting(let previous, let due) = link, ContinuousClock.now >= due else { return }
        let attempt = previous + 1
        let endpoints = config.endpoints
        endpointIndex = (endpointIndex + (endpoints.count > 1 ? 1 : 0)) % endpoints.count
        do throws(AMQPError) {
            try open(endpoints[endpointIndex])
            try restore()
            logger.info("connection recovered", metadata: ["endpoint": "\(connectedEndpoint)", "attempts": "\(attempt)"])
            shared.emit(.recovered(endpoint: connectedEndpoint, attempts: attempt))
        } catch {
            if let c = conn {  // failed half-way through restoring: start over on a fresh connection
                amqp_destroy_connection(c)
                shared.update { $0.connected = false }
            }
            logger.debug("reconnect failed", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
            if let max = config.recovery.maxAttempts, attempt >= max {
                giveUp(error)
            } else {
                link = .reconnecting(attempt: attempt, due: ContinuousClock.now + config.recovery.backoff.delay(attempt: attempt + 1))
            }
        }
    }

    /// Re-creates, on the new connection, what the application had: recorded topology, channels with their
    /// qos and confirm mode, and consumers under their old tags.
    private func restore() throws(AMQPError) {
        try openControlChannel()
        for item in topology.items {
            do throws(AMQPError) {
                _ = try declare(item, on: Self.controlChannel, record: false)
            } catch where error.code == .channelClosed {
                shared.emit(.recoveryProblem("re-declaring \(item.key.replacingOccurrences(of: "\u{0}", with: " ")): \(error)"))
                try openControlChannel()
            }
        }
        for ch in channels.values.sorted(by: { $0.id < $1.id }) where ch.id != Self.controlChannel && !ch.userClosed {
            try reopen(ch)
            for consumer in Array(ch.consumers.values) {
                // Probe on the control channel first: a failed basic.consume would close `ch` and take its
                // other consumers with it.
                do throws(AMQPError) {
                    _ = try inspectQueue(Self.controlChannel, consumer.queue)
                } catch where error.code == .channelClosed {
                    shared.emit(.recoveryProblem("consumer '\(consumer.tag)' on '\(consumer.queue)': \(error)"))
                    ch.consumers[consumer.tag] = nil
                    consumer.sink.finish(throwing: error)
                    try openControlChannel()
                    continue
                }
                _ = try basicConsume(ch, queue: consumer.queue, tag: consumer.tag, noAck: consumer.noAck,
                                     exclusive: consumer.exclusive, arguments: consumer.arguments)
            }
        }
    }
}
