import CoreMetrics
import Metrics
import Prometheus

/// Where a Warren process's metrics live: a Prometheus registry and the swift-metrics factory writing to it.
///
/// Warren's own metrics (``MetricsObserver``, ``ConnectionMonitor``, ``QueueSampler``, ``PublishTiming``) are
/// made through ``factory`` explicitly, so several instances can coexist (tests); ``bootstrap()`` also installs
/// the factory as the process-wide swift-metrics backend, so an application's own metrics show up on the same
/// `/metrics` page.
public struct WarrenMetrics: Sendable {
    /// The registry ``MetricsServer`` renders.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory writing into ``registry``, with Warren's histogram buckets.
    public let factory: PrometheusMetricsFactory

    /// A fresh registry and factory (not installed process-wide).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[MetricName.jobDuration] = MetricName.jobDurationBuckets
        factory.durationHistogramBuckets[MetricName.publishConfirm] = MetricName.publishConfirmBuckets
        self.registry = registry
        self.factory = factory
    }

    /// Creates the metrics of a process and installs them as the swift-metrics backend. Call once, at start-up.
    public static func bootstrap() -> WarrenMetrics {
        let metrics = WarrenMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        return metrics
    }

    /// The current values in the Prometheus text exposition format (version 0.0.4).
    public func render() -> [UInt8] { registry.emitToBuffer() }
}
