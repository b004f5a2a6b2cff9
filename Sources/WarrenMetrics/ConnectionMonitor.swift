import CoreMetrics
import Logging
import Metrics
import ServiceLifecycle
import WarrenAMQP

/// Follows a connection's events as metrics (label `connection`: its connection name): whether it is up
/// (`warren_connection_up`), blocked by a resource alarm, and how often it was lost and recovered. Run it as a
/// service next to the worker or scheduler; it ends on graceful shutdown or when the connection closes.
public struct ConnectionMonitor: Service {
    let connection: AMQPConnection
    let up: Gauge
    let blocked: Gauge
    let disconnects: Counter
    let reconnects: Counter
    let logger: Logger

    /// A monitor of `connection` writing to `metrics`.
    public init(connection: AMQPConnection, metrics: WarrenMetrics, logger: Logger = Logger(label: "warren.metrics")) {
        let d = [("connection", connection.configuration.connectionName)]
        let f = metrics.factory
        self.connection = connection
        self.up = Gauge(label: MetricName.connectionUp, dimensions: d, factory: f)
        self.blocked = Gauge(label: MetricName.connectionBlocked, dimensions: d, factory: f)
        self.disconnects = Counter(label: MetricName.disconnects, dimensions: d, factory: f)
        self.reconnects = Counter(label: MetricName.reconnects, dimensions: d, factory: f)
        self.logger = logger
    }

    /// Records each event until graceful shutdown or the connection closes.
    public func run() async {
        let events = connection.events()  // subscribe first, then read the state: no event falls in between
        up.record(connection.isConnected ? 1 : 0)
        blocked.record(connection.isBlocked ? 1 : 0)
        for await event in events.cancelOnGracefulShutdown() {
            switch event {
            case .connected:
                up.record(1)
            case .recovered(let endpoint, let attempts):
                up.record(1)
                reconnects.increment()
                logger.info("connection recovered", metadata: ["endpoint": "\(endpoint)", "attempts": "\(attempts)"])
            case .disconnected(let error):
                up.record(0)
                disconnects.increment()
                logger.warning("connection lost", metadata: ["error": "\(error)"])
            case .failed(let error):
                up.record(0)
                logger.error("connection failed for good", metadata: ["error": "\(error)"])
            case .blocked(let reason):
                blocked.record(1)
                logger.warning("broker blocked publishing", metadata: ["reason": "\(reason)"])
            case .unblocked:
                blocked.record(0)
            case .recoveryProblem(let text):
                logger.warning("recovery problem", metadata: ["problem": "\(text)"])
            }
        }
        up.record(0)
    }
}
