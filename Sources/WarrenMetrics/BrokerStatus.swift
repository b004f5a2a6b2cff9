import Warren
import WarrenAMQP

/// The state of a deployment's queues, as `warren status` and the dashboard show it: every lane of every work
/// queue (ready, unacknowledged, consumers, rates), dead-letter counts, the occupancy of the delay levels and
/// migrations left unfinished by `warren topology migrate`.
///
/// Ready and consumer counts come over AMQP (passive declares). AMQP 0-9-1 does not tell unacknowledged
/// counts or rates: they come from the first ``QueueStatisticsSource`` that answers, and are `nil`
/// otherwise, ``unackedSource`` saying why.
public struct BrokerStatus: Sendable, Codable, Hashable {
    /// One work queue lane. `nil` fields are unknown (queue missing, or no statistics source).
    public struct Row: Sendable, Codable, Hashable {
        /// Lane queue name.
        public var queue: String
        /// Whether the queue exists.
        public var exists: Bool
        /// Ready messages.
        public var ready: Int?
        /// Unacknowledged messages (needs a statistics source).
        public var unacked: Int?
        /// Consumers.
        public var consumers: Int?
        /// Messages in the work queue's dead-letter queue (on the queue's own row, not its other lanes).
        public var dead: Int?
        /// Publish, deliver and ack rates per second, when the statistics source measures them.
        public var publishRate: Double?
        /// Deliveries per second.
        public var deliverRate: Double?
        /// Acknowledgements per second.
        public var ackRate: Double?
        /// The lane's length limit (``Topology/Queue/maxLength``), if it has one.
        public var maxLength: Int? = nil

        /// Whether the lane is at its length limit (the broker counts ready messages only): enqueues into it
        /// fail with `queueFull`, or wait when asked to.
        public var isFull: Bool {
            guard let maxLength, let ready else { return false }
            return ready >= maxLength
        }
    }

    /// A delay level holding messages.
    public struct DelayLevel: Sendable, Codable, Hashable {
        /// Level k delays 2^k ms.
        public var level: Int
        /// Its queue.
        public var queue: String
        /// Messages waiting in it.
        public var messages: Int
        /// Creates an entry.
        public init(level: Int, queue: String, messages: Int) {
            self.level = level
            self.queue = queue
            self.messages = messages
        }
    }

    /// A holding queue left by an interrupted `warren topology migrate`.
    public struct PendingMigration: Sendable, Codable, Hashable {
        /// The holding queue (`<queue>.migrating`).
        public var holdingQueue: String
        /// Jobs in it.
        public var messages: Int
        /// Creates an entry.
        public init(holdingQueue: String, messages: Int) {
            self.holdingQueue = holdingQueue
            self.messages = messages
        }
    }

    /// One row per lane, work queues in topology order.
    public var queues: [Row]
    /// Delay levels that hold messages.
    public var delayLevels: [DelayLevel]
    /// Unfinished migrations.
    public var pendingMigrations: [PendingMigration]
    /// Where unacknowledged counts came from, or why they are missing (`n/a (...)`).
    public var unackedSource: String
    /// The broker's resource alarms in force (e.g. `memory alarm on rabbit@host`): while any is, the broker
    /// blocks every publisher and enqueues wait, then fail with `brokerBlocked`. Empty: none; `nil`: unknown
    /// (not asked for, see ``collect(topology:connection:statistics:alarms:)``, or the source does not tell).
    public var alarms: [String]? = nil
    /// Limits across workers (holders, free tokens, waiters), when the caller read them (``LimitStatus/read(global:rate:on:)``);
    /// `nil` otherwise.
    public var limits: [LimitStatus]?

    /// Every queue name the report probes for `topology`: lanes, dead-letter queues, delay levels and
    /// migration holding queues.
    public static func probedQueues(of topology: Topology) -> [String] {
        topology.queueNames(delayLevels: true) + holdingQueues(of: topology)
    }

    static func holdingQueues(of topology: Topology) -> [String] {
        topology.queues.flatMap { topology.declarations(of: $0).map { QueueMigration.holdingQueue(for: $0.name) } }
    }

    /// Asks `statistics`, in order, for what AMQP cannot tell, keeping the first that answers, then probes
    /// the queues of `topology` over `connection` (on a channel of its own). With figures, only queues the
    /// source lists are probed (no 404, so no channel reopened per missing queue) and only the lanes and
    /// dead-letter queues: delay levels and migration holding queues take the source's counts. Without,
    /// every queue is probed. Throws only when the connection fails.
    /// With `alarms`, the source that answered is also asked for the broker's resource alarms (one more
    /// request: `warren status` asks, the dashboard's periodic refresh does not).
    public static func collect(topology: Topology, connection: AMQPConnection,
                               statistics: [any QueueStatisticsSource], alarms wantAlarms: Bool = false) async throws -> BrokerStatus {
        var figures: [String: QueueFigures]?
        var alarms: [String]?
        var source = statistics.isEmpty ? "n/a (set WARREN_RABBITMQCTL)" : ""
        var failures: [String] = []
        for s in statistics where figures == nil {
            do {
                figures = try await s.queueFigures(vhost: connection.configuration.virtualHost)
                source = s.sourceName
                if wantAlarms { alarms = try? await s.alarms() }
            } catch {
                failures.append("\(s.sourceName): \(error)")
            }
        }
        if figures == nil, !failures.isEmpty { source = "n/a (\(failures.joined(separator: "; ")))" }
        var probes: [String: QueueInfo] = [:]
        var names = probedQueues(of: topology)
        if let figures {
            let live = Set(topology.queueNames(delayLevels: false))
            for name in names where !live.contains(name) {
                if let f = figures[name] { probes[name] = QueueInfo(name: name, messageCount: UInt32(clamping: f.ready), consumerCount: UInt32(clamping: f.consumers)) }
            }
            names = names.filter { live.contains($0) && figures[$0] != nil }
        }
        let inspector = try await QueueInspector(connection: connection)
        let sample: [(name: String, info: QueueInfo?)]
        do { sample = try await inspector.inspect(names) } catch {
            await inspector.close()
            throw error
        }
        await inspector.close()
        for (name, info) in sample { if let info { probes[name] = info } }
        var report = assemble(topology: topology, probes: probes, figures: figures, source: source)
        report.alarms = alarms
        return report
    }

    /// The report from probe results (`probes`: queues that exist, by name) and, when known, per-queue
    /// figures. Pure: what `collect` computes once it has asked the broker.
    public static func assemble(topology: Topology, probes: [String: QueueInfo], figures: [String: QueueFigures]?,
                                source: String) -> BrokerStatus {
        var rows: [Row] = []
        for q in topology.queues {
            let dead = probes[WireFormat.deadLetterQueue(for: q.name)].map { Int($0.messageCount) }
            for lane in q.laneNames {
                let info = probes[lane]
                let f = info == nil ? nil : figures?[lane]
                rows.append(Row(queue: lane, exists: info != nil, ready: info.map { Int($0.messageCount) }, unacked: f?.unacked,
                                consumers: info.map { Int($0.consumerCount) }, dead: lane == q.name ? dead : nil,
                                publishRate: f?.publishRate, deliverRate: f?.deliverRate, ackRate: f?.ackRate,
                                maxLength: q.maxLength))
            }
        }
        let levels = (0..<DelayRouting.levels).compactMap { level -> DelayLevel? in
            let name = DelayRouting.queue(level: level)
            guard let info = probes[name], info.messageCount > 0 else { return nil }
            return DelayLevel(level: level, queue: name, messages: Int(info.messageCount))
        }
        let migrations = holdingQueues(of: topology).compactMap { name in
            probes[name].map { PendingMigration(holdingQueue: name, messages: Int($0.messageCount)) }
        }
        return BrokerStatus(queues: rows, delayLevels: levels, pendingMigrations: migrations, unackedSource: source)
    }
}
