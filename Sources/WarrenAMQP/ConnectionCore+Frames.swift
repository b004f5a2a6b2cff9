import CRabbitMQ

extension ConnectionCore {
    /// Dispatches one incoming frame. Everything the frame points to is copied out before returning.
    func handle(_ frame: amqp_frame_t) {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }  // stray content: nothing to do
        let method = frame.payload.method
        let channel = frame.channel
        switch method.id {
        case AMQP_BASIC_DELIVER_METHOD:
            let d = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let consumerTag = repeated.string(d.consumer_tag)
            let exchange = repeated.string(d.exchange)
            let routingKey = repeated.string(d.routing_key)
            guard let (properties, body) = readContent(channel: channel) else { return }
            deliver(channel: channel, consumerTag: consumerTag, tag: d.delivery_tag, redelivered: d.redelivered != 0,
                    exchange: exchange, routingKey: routingKey, properties: properties, body: body)

        case AMQP_BASIC_ACK_METHOD:
            let a = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            channels[channel]?.confirms?.confirm(tag: a.delivery_tag, multiple: a.multiple != 0, acked: true)

        case AMQP_BASIC_NACK_METHOD:
            let n = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            channels[channel]?.confirms?.confirm(tag: n.delivery_tag, multiple: n.multiple != 0, acked: false)

        case AMQP_BASIC_RETURN_METHOD:
            let r = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let code = r.reply_code
            let text = r.reply_text.string
            let exchange = r.exchange.string
            let routingKey = r.routing_key.string
            guard let (properties, _) = readContent(channel: channel) else { return }
            channels[channel]?.confirms?.returned(exchange: exchange, routingKey: routingKey,
                                                  messageID: properties.messageID, code: code, text: text)

        case AMQP_BASIC_CANCEL_METHOD:
            let c = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = c.consumer_tag.string
            if let consumer = channels[channel]?.consumers.removeValue(forKey: tag) {
                logger.warning("consumer cancelled by the broker", metadata: ["queue": "\(consumer.queue)", "tag": "\(tag)"])
                consumer.sink.finish(throwing: AMQPError(
                    .consumerCancelled,
                    "the broker cancelled consumer '\(tag)' on queue '\(consumer.queue)' (queue deleted, or its node went down)"))
            }

        case AMQP_CHANNEL_CLOSE_METHOD:
            let c = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            channelClosedByBroker(channel, code: c.reply_code, text: c.reply_text.string)

        case AMQP_CONNECTION_CLOSE_METHOD:
            let c = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            connectionClosedByBroker(code: c.reply_code, text: c.reply_text.string)

        case AMQP_CONNECTION_BLOCKED_METHOD:
            let b = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            let reason = b.reason.string
            logger.warning("broker blocked publishing", metadata: ["reason": "\(reason)"])
            shared.update { $0.blocked = true }
            shared.emit(.blocked(reason: reason))

        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            shared.update { $0.blocked = false }
            shared.emit(.unblocked)

        default:
            break
        }
    }

    /// Reads the header and body frames that follow a deliver/return/get-ok, copied into Swift values.
    func readContent(channel: UInt16) -> (BasicProperties, [UInt8])? {
        guard let c = conn else { return nil }
        var message = amqp_message_t()
        let reply = amqp_read_message(c, channel, &message, 0)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            _ = try? checkReply(reply, channel: channel, context: "reading message content")
            return nil
        }
        defer { amqp_destroy_message(&message) }
        return (BasicProperties(message.properties, repeated: &repeated), message.body.array)
    }

    private func deliver(channel: UInt16, consumerTag: String, tag: UInt64, redelivered: Bool, exchange: String,
                         routingKey: String, properties: BasicProperties, body: [UInt8]) {
        guard let ch = channels[channel], ch.isOpen, let c = conn else { return }
        guard let consumer = ch.consumers[consumerTag] else {
            // A delivery racing our own basic.cancel: hand it back to the queue.
            ch.settler?.delivered(tag)
            _ = try? ch.settler?.markSettled(tag, multiple: false)
            _ = amqp_basic_reject(c, channel, tag, 1)
            return
        }
        if !consumer.noAck { ch.settler?.delivered(tag) }
        consumer.sink.deliver(AMQPDelivery(
            consumerTag: consumerTag, deliveryTag: tag, redelivered: redelivered, exchange: exchange,
            routingKey: routingKey, properties: properties, body: body, messageCount: nil,
            settler: consumer.noAck ? nil : ch.settler))
    }

    /// Answers the broker's channel.close and fails what was pending on that channel.
    func channelClosedByBroker(_ id: UInt16, code: UInt16, text: String) {
        if let c = conn {
            var ok = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(c, id, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
        }
        let error = AMQPError(.channelClosed, "the broker closed channel \(id)", replyCode: code, replyText: text)
        // A passive declare of something missing is answered with 404: expected, so not a warning.
        let expected = code == 404 && probing == id
        logger.log(level: expected ? .debug : .warning, "channel closed by the broker",
                   metadata: ["channel": "\(id)", "code": "\(code)", "text": "\(text)"])
        guard let ch = channels[id] else { return }
        ch.closeError = error
        ch.invalidate(error)
        for consumer in ch.consumers.values { consumer.sink.finish(throwing: error) }
        ch.consumers.removeAll()
    }

    /// Answers the broker's connection.close and starts recovery.
    func connectionClosedByBroker(code: UInt16, text: String) {
        if let c = conn {
            var ok = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(c, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
        }
        connectionFailed(AMQPError(.connectionClosed, "the broker closed the connection", replyCode: code, replyText: text))
    }

    /// Turns a failed RPC reply into an error, handling broker-side channel/connection closes on the way.
    func checkReply(_ reply: amqp_rpc_reply_t, channel: UInt16, context: String) throws(AMQPError) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let code = close.reply_code
                let text = close.reply_text.string
                channelClosedByBroker(channel, code: code, text: text)
                throw AMQPError(.channelClosed, "\(context) failed", replyCode: code, replyText: text)
            }
            if reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD {
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                let code = close.reply_code
                let text = close.reply_text.string
                connectionClosedByBroker(code: code, text: text)
                throw AMQPError(.connectionClosed, "\(context) failed: the broker closed the connection",
                                replyCode: code, replyText: text)
            }
            throw AMQPError(.protocolError, "\(context): unexpected reply method \(reply.reply.id)")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let error = Self.libraryError(reply.library_error, context)
            connectionFailed(error)
            throw error
        default:
            throw AMQPError(.protocolError, "\(context): no reply")
        }
    }

    /// Runs a synchronous librabbitmq-c RPC that returns a pointer to its `*_ok_t` (nil on failure).
    func rpc<T>(_ channel: UInt16, _ context: String,
                _ call: (amqp_connection_state_t) -> UnsafeMutablePointer<T>?) throws(AMQPError) -> T {
        guard let c = conn else { throw AMQPError(.connectionLost, "\(context): not connected") }
        if let ok = call(c) {
            let value = ok.pointee
            return value
        }
        try checkReply(amqp_get_rpc_reply(c), channel: channel, context: context)
        throw AMQPError(.protocolError, "\(context): empty reply")
    }
}
