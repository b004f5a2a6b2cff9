import CRabbitMQ
import Foundation

extension ConnectionCore {
    // MARK: consuming

    func consume(_ id: UInt16, queue: String, tag: String, noAck: Bool, exclusive: Bool, arguments: FieldTable,
                 sink: DeliverySink) throws(AMQPError) -> String {
        let (_, ch) = try requireChannel(id)
        let actual = try basicConsume(ch, queue: queue, tag: tag, noAck: noAck, exclusive: exclusive, arguments: arguments)
        ch.consumers[actual] = ConsumerState(tag: actual, queue: queue, noAck: noAck, exclusive: exclusive,
                                             arguments: arguments, sink: sink)
        return actual
    }

    func basicConsume(_ ch: ChannelState, queue: String, tag: String, noAck: Bool, exclusive: Bool,
                      arguments: FieldTable) throws(AMQPError) -> String {
        let arena = CArena()
        let id = ch.id
        let ok = try rpc(id, "basic.consume on '\(queue)'") {
            amqp_basic_consume($0, id, arena.bytes(queue), arena.bytes(tag), 0, noAck ? 1 : 0, exclusive ? 1 : 0,
                               FieldTableCodec.encode(arguments, in: arena))
        }
        let actual = ok.consumer_tag.string
        releaseBuffers(channel: id)
        return actual
    }

    /// Cancels a consumer; its stream finishes normally once the broker confirms.
    func cancel(_ id: UInt16, tag: String) throws(AMQPError) {
        guard let ch = channels[id], let consumer = ch.consumers.removeValue(forKey: tag) else { return }
        defer { consumer.sink.finish() }
        guard ch.isOpen, conn != nil else { return }
        let arena = CArena()
        _ = try rpc(id, "basic.cancel '\(tag)'") { amqp_basic_cancel($0, id, arena.bytes(tag)) }
        releaseBuffers(channel: id)
    }

    func get(_ id: UInt16, queue: String, noAck: Bool) throws(AMQPError) -> AMQPDelivery? {
        let (c, ch) = try requireChannel(id)
        let arena = CArena()
        let reply = amqp_basic_get(c, id, arena.bytes(queue), noAck ? 1 : 0)
        try checkReply(reply, channel: id, context: "basic.get on '\(queue)'")
        if reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD {
            releaseBuffers(channel: id)
            return nil
        }
        let ok = reply.reply.decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        let tag = ok.delivery_tag
        let redelivered = ok.redelivered != 0
        let exchange = ok.exchange.string
        let routingKey = ok.routing_key.string
        let remaining = ok.message_count
        guard let (properties, body) = readContent(channel: id) else {
            throw AMQPError(.connectionLost, "connection lost while reading a message from '\(queue)'")
        }
        releaseBuffers(channel: id)
        if !noAck { ch.settler?.delivered(tag) }
        return AMQPDelivery(consumerTag: "", deliveryTag: tag, redelivered: redelivered, exchange: exchange,
                            routingKey: routingKey, properties: properties, body: body, messageCount: remaining,
                            settler: noAck ? nil : ch.settler)
    }

    // MARK: settling

    /// Nack or reject (acks are marked by ``DeliverySettler`` directly and written by ``flushAcks(all:)``).
    func settle(channel id: UInt16, epoch: UInt64, tag: UInt64, _ how: Settlement) throws(AMQPError) {
        guard let c = conn, let ch = channels[id], ch.isOpen, let settler = ch.settler, settler.epoch == epoch else {
            throw DeliverySettler.stale(tag)
        }
        flushAcks(ch)  // a multiple nack must not overtake acks still pending for earlier tags
        switch how {
        case .ack(let multiple):
            try settler.ack(tag, multiple: multiple)
        case .nack(let requeue, let multiple):
            try settler.markSettled(tag, multiple: multiple)
            try checkStatus(amqp_basic_nack(c, id, tag, multiple ? 1 : 0, requeue ? 1 : 0), "basic.nack")
        case .reject(let requeue):
            try settler.markSettled(tag, multiple: false)
            try checkStatus(amqp_basic_reject(c, id, tag, requeue ? 1 : 0), "basic.reject")
        }
    }

    /// Sends an ack for an arbitrary tag, bypassing bookkeeping (for tools and tests of broker behaviour).
    func rawAck(_ id: UInt16, tag: UInt64, multiple: Bool) throws(AMQPError) {
        let (c, _) = try requireChannel(id)
        try checkStatus(amqp_basic_ack(c, id, tag, multiple ? 1 : 0), "basic.ack")
    }

    func checkStatus(_ rc: Int32, _ context: String) throws(AMQPError) {
        guard rc != AMQP_STATUS_OK.rawValue else { return }
        let error = Self.libraryError(rc, context)
        connectionFailed(error)
        throw error
    }

    /// Writes the coalesced acks of every channel whose acks are due (``AckTracker/flushDue(at:)``), or of
    /// every channel with pending acks when `all`.
    func flushAcks(all: Bool = false) {
        let now = ContinuousClock.now
        for ch in channels.values {
            guard let settler = ch.settler, all ? settler.hasPendingAcks : settler.flushDue(at: now) else { continue }
            flushAcks(ch, at: all ? nil : now)
        }
    }

    /// By when the acks of some channel are to be looked at (``AckTracker/lookDeadline(at:)``), if any.
    func ackLookDeadline(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        channels.values.compactMap { $0.settler?.lookDeadline(at: now) }.min()
    }

    /// Writes the acks of `ch`: all of them, or with `now` those ``AckTracker/takeAcks(at:)`` lets go.
    func flushAcks(_ ch: ChannelState, at now: ContinuousClock.Instant? = nil) {
        guard let c = conn, ch.isOpen, let settler = ch.settler else { return }
        for (tag, multiple) in settler.takeAcks(at: now) {
            if amqp_basic_ack(c, ch.id, tag, multiple ? 1 : 0) != AMQP_STATUS_OK.rawValue {
                connectionFailed(AMQPError(.connectionLost, "connection lost while sending acks"))
                return
            }
        }
    }

    // MARK: publishing

    func publish(_ id: UInt16, _ message: OutgoingMessage, completion: @escaping ConfirmTracker.Completion) {
        publish(id, message, waiter: .single(completion))
    }

    /// Queues `count` messages made by `make` as the confirm window opens; each outcome goes to its slot of
    /// `collector`. Without confirm mode they are made and written at once.
    func publish(_ id: UInt16, count: Int, make: @escaping @Sendable (Int) -> OutgoingMessage, collector: BatchCollector) {
        let ch: ChannelState
        do throws(AMQPError) { (_, ch) = try requireChannel(id) } catch {
            for i in 0..<count { collector.set(i, .failure(error)) }
            return
        }
        guard ch.confirms != nil else {
            for i in 0..<count { publish(id, make(i), waiter: .batch(collector, index: i)) }
            return
        }
        ch.waiting.append(.made(MessageSource(count: count, make: make, collector: collector)))
    }

    private func publish(_ id: UInt16, _ message: OutgoingMessage, waiter: PublishWaiter) {
        let ch: ChannelState
        do throws(AMQPError) { (_, ch) = try requireChannel(id) } catch {
            waiter.complete(.failure(error))
            return
        }
        if ch.confirms == nil {
            let rc = send(message, on: id)
            if rc == AMQP_STATUS_OK.rawValue {
                waiter.complete(.success(.sent))
            } else {
                let error = Self.libraryError(rc, "basic.publish")
                waiter.complete(.failure(error))
                connectionFailed(error)
            }
        } else {
            ch.waiting.append(.message(message, waiter))
        }
    }

    /// Publishes waiting messages as far as each channel's confirm window allows.
    func pumpPublishes() {
        // A burst leaves corked: full segments instead of one small one per message, for this side's
        // kernel and the broker's reader alike; uncorking at the end sends the rest at once.
        var corked = false
        defer { if corked, let c = conn { warren_tcp_cork(amqp_get_sockfd(c), 0) } }
        for ch in channels.values where !ch.waiting.isEmpty && ch.isOpen {
            while ch.confirms?.hasRoom == true, let next = ch.popPending() {
                if !corked, !ch.waiting.isEmpty, let c = conn {
                    corked = true
                    warren_tcp_cork(amqp_get_sockfd(c), 1)
                }
                ch.confirms?.add(next.message, waiter: next.waiter)
                let rc = send(next.message, on: ch.id)
                if rc != AMQP_STATUS_OK.rawValue {
                    connectionFailed(Self.libraryError(rc, "basic.publish"))
                    return
                }
            }
        }
    }

    private func send(_ m: OutgoingMessage, on id: UInt16) -> Int32 {
        guard let c = conn else { return AMQP_STATUS_CONNECTION_CLOSED.rawValue }
        let arena = publishArena
        defer { arena.reset() }
        var properties = m.properties.cProperties(in: arena)
        let exchange = arena.bytes(m.exchange)
        let routingKey = arena.bytes(m.routingKey)
        return m.body.withUnsafeBytes { body in
            amqp_basic_publish(c, id, exchange, routingKey, m.mandatory ? 1 : 0, 0, &properties,
                               amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
        }
    }
}
