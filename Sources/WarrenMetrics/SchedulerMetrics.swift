import CoreMetrics
import Foundation
import Metrics
import Warren

/// A scheduler replica's metrics: fires published by schedule (and whether caught up at takeover), their
/// lateness (publish time minus fire time), and whether this replica leads.
public struct SchedulerMetrics: Sendable {
    private let factory: any MetricsFactory
    private let leader: Gauge

    /// Metrics written to `metrics`.
    public init(metrics: WarrenMetrics) {
        factory = metrics.factory
        leader = Gauge(label: MetricName.schedulerLeader, factory: metrics.factory)
        leader.record(0)
    }

    /// Records a change of leadership.
    public func leadershipChanged(leading: Bool) { leader.record(leading ? 1 : 0) }

    /// Records one published fire.
    public func fired(_ fire: FireRecord) {
        let d = [("schedule", fire.schedule), ("caught_up", fire.caughtUp ? "true" : "false")]
        Counter(label: MetricName.schedulerFires, dimensions: d, factory: factory).increment()
        let late = max(0, fire.lateness.seconds)
        Timer(label: MetricName.schedulerLateness, dimensions: [("schedule", fire.schedule)], factory: factory)
            .recordNanoseconds(Int64(late * 1e9))
    }
}
