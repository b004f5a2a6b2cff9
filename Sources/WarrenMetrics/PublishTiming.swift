import CoreMetrics
import Metrics
import Warren

/// Publish confirm latency, `warren_publish_confirm_seconds{queue, result}`: the time from handing a job to a
/// ``Warren/JobProducer`` until the broker confirmed it (`ok`) or it failed (`error`).
///
/// `JobProducer.enqueue` returns only once the broker confirmed, so wrapping one call measures one confirm:
/// `try await timing.measure(queue: "emails") { try await producer.enqueue(job) }`.
public struct PublishTiming: Sendable {
    let factory: any MetricsFactory

    /// Timing written to `metrics`.
    public init(metrics: WarrenMetrics) { self.factory = metrics.factory }

    /// Runs `publish` and records how long it took, labelled by outcome.
    @discardableResult
    public func measure<T>(queue: String, _ publish: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        do {
            let value = try await publish()
            record(queue: queue, ok: true, ContinuousClock.now - start)
            return value
        } catch {
            record(queue: queue, ok: false, ContinuousClock.now - start)
            throw error
        }
    }

    /// Records one measured publish.
    public func record(queue: String, ok: Bool, _ duration: Duration) {
        Timer(label: MetricName.publishConfirm, dimensions: [("queue", queue), ("result", ok ? "ok" : "error")], factory: factory)
            .recordNanoseconds(MetricsObserver.nanoseconds(duration))
    }
}
