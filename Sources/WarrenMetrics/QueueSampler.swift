import CoreMetrics
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import WarrenAMQP

/// Samples queue depth and consumer counts every ``interval`` (passive declares through a
/// ``QueueInspector``) into `warren_queue_messages` and `warren_queue_consumers`, labelled by `queue`.
/// A missing queue reads as 0. While the connection is down the gauges keep their last values.
public final class QueueSampler: Service, Sendable {
    let connection: AMQPConnection
    let queues: [String]
    /// Time between two samples.
    public let interval: Duration
    let factory: any MetricsFactory
    let logger: Logger
    private let gauges = Mutex<[String: (messages: Gauge, consumers: Gauge)]>([:])

    /// A sampler of `queues` (see ``Topology/queueNames(delayLevels:)``) on `connection`.
    public init(connection: AMQPConnection, queues: [String], interval: Duration = .seconds(15), metrics: WarrenMetrics,
                logger: Logger = Logger(label: "warren.metrics")) {
        self.connection = connection
        self.queues = queues
        self.interval = interval
        self.factory = metrics.factory
        self.logger = logger
    }

    /// Samples until graceful shutdown or cancellation.
    public func run() async {
        var inspector: QueueInspector?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do throws(AMQPError) {
                if inspector == nil { inspector = try await QueueInspector(connection: connection) }
                record(try await inspector!.inspect(queues))
            } catch {
                logger.debug("queue sampling failed", metadata: ["error": "\(error)"])
                if error.code != .connectionLost { inspector = nil }  // a lost connection restores the channel itself
            }
            let pause = interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
        await inspector?.close()
    }

    /// Writes one sample.
    func record(_ sample: [(name: String, info: QueueInfo?)]) {
        for (name, info) in sample {
            let g = gauges.withLock { table in
                if let g = table[name] { return g }
                let d = [("queue", name)]
                let g = (Gauge(label: MetricName.queueMessages, dimensions: d, factory: factory),
                         Gauge(label: MetricName.queueConsumers, dimensions: d, factory: factory))
                table[name] = g
                return g
            }
            g.messages.record(Int(info?.messageCount ?? 0))
            g.consumers.record(Int(info?.consumerCount ?? 0))
        }
    }
}
