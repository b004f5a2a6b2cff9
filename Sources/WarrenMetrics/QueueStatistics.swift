/// What the broker knows about one queue beyond what AMQP 0-9-1 tells (ready count and consumers):
/// unacknowledged messages and, where the source measures them, rates.
public struct QueueFigures: Sendable, Codable, Hashable {
    /// Messages ready for delivery.
    public var ready: Int
    /// Messages delivered and not yet acknowledged.
    public var unacked: Int
    /// Consumers on the queue.
    public var consumers: Int
    /// Messages published into the queue per second, when the source measures rates.
    public var publishRate: Double?
    /// Messages delivered to consumers per second, when measured.
    public var deliverRate: Double?
    /// Acknowledgements per second, when measured.
    public var ackRate: Double?

    /// Creates figures.
    public init(ready: Int, unacked: Int, consumers: Int, publishRate: Double? = nil, deliverRate: Double? = nil, ackRate: Double? = nil) {
        self.ready = ready
        self.unacked = unacked
        self.consumers = consumers
        self.publishRate = publishRate
        self.deliverRate = deliverRate
        self.ackRate = ackRate
    }
}

/// A source of ``QueueFigures`` for a whole virtual host: `rabbitmqctl` (``RabbitMQCtl``) or the
/// management plugin's HTTP API.
public protocol QueueStatisticsSource: Sendable {
    /// How reports name this source (e.g. `rabbitmqctl`).
    var sourceName: String { get }
    /// Figures of every queue of `vhost`, by queue name.
    func queueFigures(vhost: String) async throws -> [String: QueueFigures]
    /// The broker's resource alarms in force, one line each (e.g. `memory alarm on rabbit@host`), or `nil` when
    /// this source cannot tell. Default: `nil`.
    func alarms() async throws -> [String]?
}

extension QueueStatisticsSource {
    /// `nil`: this source does not tell.
    public func alarms() async throws -> [String]? { nil }
}

extension RabbitMQCtl: QueueStatisticsSource {
    /// `rabbitmqctl`.
    public var sourceName: String { "rabbitmqctl" }

    /// ``queueCounts(vhost:)`` as figures (no rates: `rabbitmqctl` does not measure them).
    public func queueFigures(vhost: String) async throws -> [String: QueueFigures] {
        try queueCounts(vhost: vhost).mapValues { QueueFigures(ready: $0.ready, unacked: $0.unacked, consumers: $0.consumers) }
    }
}
