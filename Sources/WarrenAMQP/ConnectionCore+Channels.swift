import CRabbitMQ

extension ConnectionCore {
    /// Opens a new application channel (ids from 2 up; the lowest free one).
    func openChannel(confirmWindow: Int?) throws(AMQPError) -> UInt16 {
        if stopping { throw Mailbox.closedError }
        let limit = UInt16(clamping: config.channelMax == 0 ? 2047 : config.channelMax)
        guard let id = (2...max(2, limit)).first(where: { channels[$0] == nil }) else {
            throw AMQPError(.protocolError, "no free channel (channel_max \(limit))")
        }
        let ch = ChannelState(id: id)
        ch.confirmWindow = confirmWindow
        channels[id] = ch
        do {
            try reopen(ch)
        } catch {
            channels[id] = nil
            throw error
        }
        return id
    }

    /// (Re)opens `ch` on the current connection and restores its qos and confirm mode.
    func reopen(_ ch: ChannelState) throws(AMQPError) {
        guard let c = conn else { throw AMQPError(.connectionLost, "not connected to the broker (reconnecting)") }
        if ch.isOpen {  // an application reopen of a healthy channel: close it first
            ch.invalidate(AMQPError(.channelClosed, "channel \(ch.id) was reopened"))
            _ = amqp_channel_close(c, ch.id, AMQP_REPLY_SUCCESS)
        }
        _ = try rpc(ch.id, "channel.open \(ch.id)") { amqp_channel_open($0, ch.id) }
        ch.isOpen = true
        ch.closeError = nil
        ch.epoch = nextEpoch()
        ch.settler = DeliverySettler(mailbox: mailbox, channel: ch.id, epoch: ch.epoch)
        if let (count, global) = ch.prefetch {
            _ = try rpc(ch.id, "basic.qos") { amqp_basic_qos($0, ch.id, 0, count, global ? 1 : 0) }
            ch.settler?.setPrefetch(Int(count))
        }
        if let window = ch.confirmWindow {
            _ = try rpc(ch.id, "confirm.select") { amqp_confirm_select($0, ch.id) }
            ch.confirms = ConfirmTracker(window: window)
        } else {
            ch.confirms = nil
        }
        releaseBuffers(channel: ch.id)
    }

    /// Closes an application channel for good.
    func closeChannel(_ id: UInt16) {
        guard let ch = channels.removeValue(forKey: id) else { return }
        ch.userClosed = true
        let error = AMQPError(.channelClosed, "channel \(id) was closed by the application")
        if ch.isOpen, let c = conn {
            flushAcks(ch)
            ch.invalidate(error)
            _ = amqp_channel_close(c, id, AMQP_REPLY_SUCCESS)
            releaseBuffers(channel: id)
        } else {
            ch.invalidate(error)
        }
        for consumer in ch.consumers.values { consumer.sink.finish() }
    }

    func setQoS(_ id: UInt16, prefetchCount: UInt16, global: Bool) throws(AMQPError) {
        let (_, ch) = try requireChannel(id)
        _ = try rpc(id, "basic.qos") { amqp_basic_qos($0, id, 0, prefetchCount, global ? 1 : 0) }
        ch.prefetch = (prefetchCount, global)
        ch.settler?.setPrefetch(Int(prefetchCount))
    }

    // MARK: topology

    /// Declares (or re-declares on recovery) one recorded item on channel `id`.
    func declare(_ item: TopologyRecord.Item, on id: UInt16, record: Bool) throws(AMQPError) -> QueueInfo? {
        let arena = CArena()
        var info: QueueInfo? = nil
        switch item {
        case .exchange(let name, let type, let durable, let autoDelete, let isInternal, let arguments):
            _ = try rpc(id, "exchange.declare '\(name)'") {
                amqp_exchange_declare($0, id, arena.bytes(name), arena.bytes(type), 0, durable ? 1 : 0,
                                      autoDelete ? 1 : 0, isInternal ? 1 : 0, FieldTableCodec.encode(arguments, in: arena))
            }
        case .queue(let name, let durable, let exclusive, let autoDelete, let arguments):
            let ok = try rpc(id, "queue.declare '\(name)'") {
                amqp_queue_declare($0, id, arena.bytes(name), 0, durable ? 1 : 0, exclusive ? 1 : 0,
                                   autoDelete ? 1 : 0, FieldTableCodec.encode(arguments, in: arena))
            }
            info = QueueInfo(name: ok.queue.string, messageCount: ok.message_count, consumerCount: ok.consumer_count)
        case .queueBinding(let queue, let exchange, let key, let arguments):
            _ = try rpc(id, "queue.bind '\(queue)' to '\(exchange)'") {
                amqp_queue_bind($0, id, arena.bytes(queue), arena.bytes(exchange), arena.bytes(key),
                                FieldTableCodec.encode(arguments, in: arena))
            }
        case .exchangeBinding(let destination, let source, let key, let arguments):
            _ = try rpc(id, "exchange.bind '\(destination)' to '\(source)'") {
                amqp_exchange_bind($0, id, arena.bytes(destination), arena.bytes(source), arena.bytes(key),
                                   FieldTableCodec.encode(arguments, in: arena))
            }
        }
        releaseBuffers(channel: id)
        if record {
            if case .queue(let name, _, _, _, _) = item, name.isEmpty {
                // server-named: cannot be re-declared under the same name
            } else {
                topology.record(item)
            }
        }
        return info
    }

    func inspectQueue(_ id: UInt16, _ name: String) throws(AMQPError) -> QueueInfo {
        let arena = CArena()
        probing = id
        defer { probing = nil }
        let ok = try rpc(id, "queue.declare passive '\(name)'") {
            amqp_queue_declare($0, id, arena.bytes(name), 1, 0, 0, 0, amqp_table_t(num_entries: 0, entries: nil))
        }
        let info = QueueInfo(name: ok.queue.string, messageCount: ok.message_count, consumerCount: ok.consumer_count)
        releaseBuffers(channel: id)
        return info
    }

    func inspectExchange(_ id: UInt16, _ name: String) throws(AMQPError) {
        let arena = CArena()
        probing = id
        defer { probing = nil }
        _ = try rpc(id, "exchange.declare passive '\(name)'") {
            amqp_exchange_declare($0, id, arena.bytes(name), arena.bytes("direct"), 1, 0, 0, 0,
                                  amqp_table_t(num_entries: 0, entries: nil))
        }
        releaseBuffers(channel: id)
    }

    func unbindQueue(_ id: UInt16, queue: String, exchange: String, routingKey: String, arguments: FieldTable) throws(AMQPError) {
        let arena = CArena()
        _ = try rpc(id, "queue.unbind '\(queue)' from '\(exchange)'") {
            amqp_queue_unbind($0, id, arena.bytes(queue), arena.bytes(exchange), arena.bytes(routingKey),
                              FieldTableCodec.encode(arguments, in: arena))
        }
        releaseBuffers(channel: id)
        topology.remove { $0 == .queueBinding(queue: queue, exchange: exchange, routingKey: routingKey, arguments: arguments) }
    }

    func unbindExchange(_ id: UInt16, destination: String, source: String, routingKey: String, arguments: FieldTable) throws(AMQPError) {
        let arena = CArena()
        _ = try rpc(id, "exchange.unbind '\(destination)' from '\(source)'") {
            amqp_exchange_unbind($0, id, arena.bytes(destination), arena.bytes(source), arena.bytes(routingKey),
                                 FieldTableCodec.encode(arguments, in: arena))
        }
        releaseBuffers(channel: id)
        topology.remove {
            $0 == .exchangeBinding(destination: destination, source: source, routingKey: routingKey, arguments: arguments)
        }
    }

    func purgeQueue(_ id: UInt16, _ name: String) throws(AMQPError) -> UInt32 {
        let arena = CArena()
        let ok = try rpc(id, "queue.purge '\(name)'") { amqp_queue_purge($0, id, arena.bytes(name)) }
        releaseBuffers(channel: id)
        return ok.message_count
    }

    func deleteQueue(_ id: UInt16, _ name: String, ifUnused: Bool, ifEmpty: Bool) throws(AMQPError) -> UInt32 {
        let arena = CArena()
        let ok = try rpc(id, "queue.delete '\(name)'") {
            amqp_queue_delete($0, id, arena.bytes(name), ifUnused ? 1 : 0, ifEmpty ? 1 : 0)
        }
        releaseBuffers(channel: id)
        topology.forgetQueue(name)
        return ok.message_count
    }

    func deleteExchange(_ id: UInt16, _ name: String, ifUnused: Bool) throws(AMQPError) {
        let arena = CArena()
        _ = try rpc(id, "exchange.delete '\(name)'") { amqp_exchange_delete($0, id, arena.bytes(name), ifUnused ? 1 : 0) }
        releaseBuffers(channel: id)
        topology.forgetExchange(name)
    }
}
