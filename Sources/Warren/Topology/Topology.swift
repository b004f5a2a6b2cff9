import WarrenAMQP

/// Everything Warren declares, from one description: work queues with their dead-letter queues, the delay
/// levels and the exchanges that route between them. Declaring is idempotent.
public struct Topology: Sendable, Hashable {
    /// Queue type for work, delay and dead-letter queues.
    public enum Mode: String, Sendable, Hashable, Codable {
        /// Classic queues: priority through `x-max-priority`. Single node.
        case classic
        /// Quorum queues (replicated; clusters): at-least-once dead-lettering, priority through lanes.
        case quorum
    }

    /// One work queue.
    public struct Queue: Sendable, Hashable {
        /// Queue name (also its routing key on ``WireFormat/workExchange``).
        public var name: String
        /// Classic mode: `x-max-priority` (1...255, 10 or less advised). `nil`: no priority (faster).
        public var maxPriority: UInt8?
        /// Priority lanes: with n >= 2, priority p is routed to lane `min(p, n-1)`, lane 0 being the queue
        /// itself and lane k the queue `<name>.lane<k>`; workers take from higher lanes first. Works in both
        /// modes; the only priority quorum queues have.
        public var lanes: Int
        /// Declared by another system with its own arguments (e.g. Celery's `celery` queue, which kombu
        /// declares durable with no arguments): Warren declares it the same way, so neither side gets a 406,
        /// with no lanes, priority or broker-side dead-lettering; Warren's workers still dead-letter into
        /// `<name>.dead` themselves, and delays still reach it.
        public var external: Bool
        /// Most jobs ready in the queue (each lane counts its own): declared as `x-max-length` with
        /// `x-overflow=reject-publish`, so that the broker refuses an enqueue into a full queue, which the
        /// producer reports as ``WarrenError/Code/queueFull`` (or waits for room, with
        /// ``EnqueueOptions/waitWhenFull``). Jobs being run (unacked) do not count. `nil`: no limit (default).
        /// Retries and delayed jobs reach the queue through the broker's dead-lettering, which a full
        /// `reject-publish` queue refuses too: they stay in their delay level until there is room (quorum
        /// mode, at-least-once dead-lettering) or, in classic mode, are dropped by the broker, so keep the limit
        /// well above the queue's usual backlog there.
        public var maxLength: Int?

        /// Creates a queue description.
        public init(_ name: String, maxPriority: UInt8? = nil, lanes: Int = 1, external: Bool = false, maxLength: Int? = nil) {
            self.name = name
            self.maxPriority = external ? nil : maxPriority
            self.lanes = external ? 1 : max(1, lanes)
            self.external = external
            self.maxLength = external ? nil : maxLength.map { max(0, $0) }
        }

        /// Name of lane `k` (lane 0 is the queue itself).
        public func lane(_ k: Int) -> String { k == 0 ? name : "\(name).lane\(k)" }
        /// All lane queue names, highest lane first.
        public var laneNames: [String] { (0..<lanes).reversed().map(lane) }
        /// Every queue of this work queue: its lanes, highest first, then its dead-letter queue.
        public var queueNames: [String] { laneNames + [WireFormat.deadLetterQueue(for: name)] }
        /// The queue a job of `priority` goes to.
        public func queue(forPriority priority: UInt8?) -> String {
            lanes > 1 ? lane(min(Int(priority ?? 0), lanes - 1)) : name
        }
    }

    /// Queue type. Default classic.
    public var mode: Mode
    /// Work queues. Default: one queue named `default`.
    public var queues: [Queue]
    /// Classic mode: where work queues keep waiting jobs. Default: RabbitMQ's default mode (in memory), see
    /// ``ClassicQueueMode``. A queue that exists in the other mode keeps it (``QueueDeclaration/declare(on:)``).
    public var classicQueueMode: ClassicQueueMode

    /// Creates a topology.
    public init(mode: Mode = .classic, queues: [Queue] = [Queue("default")], classicQueueMode: ClassicQueueMode = .default) {
        self.mode = mode
        self.queues = queues
        self.classicQueueMode = classicQueueMode
    }

    /// The description of `name`, or a plain queue of that name.
    public func queue(named name: String) -> Queue {
        queues.first { $0.name == name } ?? Queue(name)
    }

    /// Arguments every Warren queue of this mode gets.
    func baseArguments() -> FieldTable {
        switch mode {
        case .classic: return [:]
        case .quorum:
            return ["x-queue-type": "quorum", "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"]
        }
    }

    /// Declares exchanges, delay levels, work queues (every lane) and dead-letter queues.
    public func declare(on channel: AMQPChannel) async throws(AMQPError) {
        try await declareShared(on: channel)
        for queue in queues { try await declare(queue, on: channel) }
    }

    /// Declares the exchanges and delay levels that all queues share. Skipped when the marker exchange
    /// (declared last) shows an earlier run completed the same declaration.
    public func declareShared(on channel: AMQPChannel) async throws(AMQPError) {
        let marker = "warren.topology.v3.\(mode.rawValue)"
        if try await channel.unlessRefused(404, { () async throws(AMQPError) in try await channel.inspectExchange(marker) }) != nil {
            return
        }
        // A message no queue takes (its queue was deleted after the producer checked it) is parked in
        // `warren.unroutable`, never dropped.
        try await channel.declareExchange(WireFormat.unroutableExchange, type: .fanout)
        try await channel.declareQueue(WireFormat.unroutableExchange, durable: true,
                                       arguments: mode == .quorum ? ["x-queue-type": "quorum"] : [:])
        try await channel.bindQueue(WireFormat.unroutableExchange, exchange: WireFormat.unroutableExchange, routingKey: "")
        let parked: FieldTable = ["alternate-exchange": .string(WireFormat.unroutableExchange)]
        try await channel.declareExchange(WireFormat.workExchange, type: .direct, arguments: parked)
        try await channel.declareExchange(WireFormat.deadExchange, type: .direct, arguments: parked)
        try await channel.declareExchange(WireFormat.deliverExchange, type: .topic, arguments: parked)
        // Batch children in the compact form (``BatchRoute``) pass through to the work exchange, routing key and all.
        try await channel.declareExchange(WireFormat.batchExchange, type: .fanout, arguments: parked)
        try await channel.bindExchange(destination: WireFormat.workExchange, source: WireFormat.batchExchange, routingKey: "")
        for level in 0..<DelayRouting.levels {
            try await channel.declareExchange(DelayRouting.exchange(level: level), type: .topic)
        }
        for level in 0..<DelayRouting.levels {
            var args = baseArguments()
            args["x-message-ttl"] = .int64(Int64(1) << Int64(level))
            args["x-dead-letter-exchange"] = .string(level == 0 ? WireFormat.deliverExchange : DelayRouting.exchange(level: level - 1))
            try await channel.declareQueue(DelayRouting.queue(level: level), durable: true, arguments: args)
        }
        for level in 0..<DelayRouting.levels {
            let exchange = DelayRouting.exchange(level: level)
            for target in 0...level {
                try await channel.bindQueue(DelayRouting.queue(level: target), exchange: exchange,
                                            routingKey: DelayRouting.bindingKey(level: level, target: target))
            }
            try await channel.bindExchange(destination: WireFormat.deliverExchange, source: exchange,
                                           routingKey: DelayRouting.bindingKey(level: level, target: nil))
        }
        try await channel.declareExchange(marker, type: .fanout)
    }

    /// Declares one work queue (all its lanes) and its dead-letter queue.
    public func declare(_ queue: Queue, on channel: AMQPChannel) async throws(AMQPError) {
        for d in declarations(of: queue) { try await d.declare(on: channel) }
    }

    /// The queues declared for one work queue, with their arguments and bindings: its dead-letter queue,
    /// then every lane.
    public func declarations(of queue: Queue) -> [QueueDeclaration] {
        let quorum: FieldTable = mode == .quorum ? ["x-queue-type": "quorum"] : [:]
        let dead = QueueDeclaration(name: WireFormat.deadLetterQueue(for: queue.name), arguments: quorum,
                                    bindings: [.init(exchange: WireFormat.deadExchange, routingKey: queue.name)])
        return [dead] + (0..<queue.lanes).map { k in
            let name = queue.lane(k)
            var args: FieldTable
            if queue.external {
                args = quorum
            } else {
                args = baseArguments().merging(queueModeArguments()) { $1 }
                args["x-dead-letter-exchange"] = .string(WireFormat.deadExchange)
                args["x-dead-letter-routing-key"] = .string(queue.name)
            }
            if mode == .classic, let p = queue.maxPriority, queue.lanes == 1 { args["x-max-priority"] = .int32(Int32(p)) }
            if let limit = queue.maxLength {
                args["x-max-length"] = .int64(Int64(limit))
                args["x-overflow"] = "reject-publish"
            }
            return QueueDeclaration(name: name, arguments: args, bindings: [
                .init(exchange: WireFormat.workExchange, routingKey: name),
                .init(exchange: WireFormat.deliverExchange, routingKey: DelayRouting.deliverKey(queue: name)),
            ])
        }
    }

    /// Every queue of the topology: the lanes and the dead-letter queue of each work queue, then, with
    /// `delayLevels`, the delay-level queues. The one list of a topology's queues (status, metrics, clean-up).
    public func queueNames(delayLevels: Bool) -> [String] {
        var names = queues.flatMap(\.queueNames)
        if delayLevels { names += (0..<DelayRouting.levels).map(DelayRouting.queue(level:)) }
        return names
    }

    /// Where a job for `queue` with `priority` and a delay goes: exchange and routing key.
    public func route(queue: String, priority: UInt8?, delayMilliseconds: UInt64) -> (exchange: String, routingKey: String) {
        let target = self.queue(named: queue).queue(forPriority: priority)
        if delayMilliseconds == 0 { return (WireFormat.workExchange, target) }
        return (WireFormat.delayExchange, DelayRouting.routingKey(milliseconds: delayMilliseconds, queue: target))
    }
}
