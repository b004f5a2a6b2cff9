import Logging
import ServiceLifecycle
import WarrenAMQP

/// Everything an operated Warren process runs next to its main service, wired together: the HTTP server
/// (`/metrics`, `/healthz`, `/readyz`), the connection monitor, the queue sampler, and a worker observer.
///
/// ```swift
/// let ops = Operations(port: 9090, connection: connection, sampledQueues: ["default", "default.dead"],
///                      metrics: .bootstrap())
/// let worker = Worker(connection: connection, registry: jobs, observer: ops.observer)
/// let group = ServiceGroup(services: ops.services(around: worker, name: "worker"), logger: logger)
/// ```
/// Readiness: the connection is up, the main service runs and is not shutting down, and the worker consumes.
public struct Operations: Sendable {
    /// Where the metrics live.
    public let metrics: WarrenMetrics
    /// The `/readyz` checks; add your own with ``Readiness/require(_:_:)``.
    public let readiness: Readiness
    /// Pass to the worker.
    public let observer: MetricsObserver
    /// Publish confirm latency, for code that enqueues.
    public let publishTiming: PublishTiming
    /// The HTTP server.
    public let server: MetricsServer
    let monitor: ConnectionMonitor
    let sampler: QueueSampler?

    /// Wires the services for `connection`, serving on `host:port` and sampling `sampledQueues` (none: no sampler).
    public init(host: String = "0.0.0.0", port: Int, connection: AMQPConnection, sampledQueues: [String],
                sampleInterval: Duration = .seconds(15), metrics: WarrenMetrics, logger: Logger = Logger(label: "warren.metrics")) {
        self.metrics = metrics
        self.readiness = Readiness()
        readiness.requireConnected(connection)
        let observer = MetricsObserver(metrics: metrics)
        self.observer = observer
        readiness.require("consuming") { observer.isConsuming }
        self.publishTiming = PublishTiming(metrics: metrics)
        self.server = MetricsServer(host: host, port: port, metrics: metrics, readiness: readiness, logger: logger)
        self.monitor = ConnectionMonitor(connection: connection, metrics: metrics, logger: logger)
        self.sampler = sampledQueues.isEmpty ? nil
            : QueueSampler(connection: connection, queues: sampledQueues, interval: sampleInterval, metrics: metrics, logger: logger)
    }

    /// The services to run, in service-group order: the server first (so it is shut down last and keeps
    /// answering while `main` drains), then the monitor and sampler, then `main`, tracked for readiness as `name`.
    public func services(around main: any Service, name: String) -> [any Service] {
        [server, monitor] + (sampler.map { [$0] } ?? []) + [readiness.tracking(main, as: name)]
    }
}
