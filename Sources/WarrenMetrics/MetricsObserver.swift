import CoreMetrics
import Metrics
import Synchronization
import Warren

/// Counts what a ``Warren/Worker`` does, as Prometheus metrics labelled by `job` and `queue`: attempts started,
/// succeeded, failed, retried, dead-lettered (also deferred and abandoned), their duration, and the attempts
/// in flight. Pass it as the worker's `observer`.
public final class MetricsObserver: WorkerObserver {
    private struct Key: Hashable {
        let job: String
        let queue: String
    }

    /// The metric objects of one (job, queue) pair, made once.
    private struct JobMetrics: Sendable {
        let started, succeeded, failed, retried, deadLettered, deferred, abandoned, interrupted: Counter
        let duration: Timer
        let inFlight: Meter

        init(_ key: Key, factory: any MetricsFactory) {
            let d = [("job", key.job), ("queue", key.queue)]
            started = Counter(label: MetricName.jobsStarted, dimensions: d, factory: factory)
            succeeded = Counter(label: MetricName.jobsSucceeded, dimensions: d, factory: factory)
            failed = Counter(label: MetricName.jobsFailed, dimensions: d, factory: factory)
            retried = Counter(label: MetricName.jobsRetried, dimensions: d, factory: factory)
            deadLettered = Counter(label: MetricName.jobsDeadLettered, dimensions: d, factory: factory)
            deferred = Counter(label: MetricName.jobsDeferred, dimensions: d, factory: factory)
            abandoned = Counter(label: MetricName.jobsAbandoned, dimensions: d, factory: factory)
            interrupted = Counter(label: MetricName.jobsInterrupted, dimensions: d, factory: factory)
            duration = Timer(label: MetricName.jobDuration, dimensions: d, factory: factory)
            inFlight = Meter(label: MetricName.jobsInFlight, dimensions: d, factory: factory)
        }
    }

    private let factory: any MetricsFactory
    private let publishes: PublishTiming
    private let consuming = RunningFlag()
    private let jobs = Mutex<[Key: JobMetrics]>([:])
    private let rejected = Mutex<[String: Counter]>([:])

    /// An observer writing to `metrics`.
    public init(metrics: WarrenMetrics) {
        self.factory = metrics.factory
        self.publishes = PublishTiming(metrics: metrics)
    }

    /// Whether the observed worker is consuming now (for readiness).
    public var isConsuming: Bool { consuming.value }

    /// Records the worker's consuming state.
    public func consumingChanged(_ consuming: Bool) { self.consuming.set(consuming) }

    /// Records publish confirm latency (enqueues, retries and dead letters of the worker).
    public func published(queue: String, duration: Duration, ok: Bool) { publishes.record(queue: queue, ok: ok, duration) }

    public func publishFailed(queue: String, code: WarrenError.Code) {
        Counter(label: MetricName.publishFailures, dimensions: [("queue", queue), ("reason", code.rawValue)], factory: factory).increment()
    }

    private func metrics(_ job: String, _ queue: String) -> JobMetrics {
        let key = Key(job: job, queue: queue)
        return jobs.withLock { table in
            if let m = table[key] { return m }
            let m = JobMetrics(key, factory: factory)
            table[key] = m
            return m
        }
    }

    /// Counts a start and one more attempt in flight.
    public func jobStarted(name: String, queue: String) {
        let m = metrics(name, queue)
        m.started.increment()
        m.inFlight.increment()
    }

    /// Counts the outcome, the failure if any, and the duration; one attempt fewer in flight.
    public func jobFinished(name: String, queue: String, outcome: JobOutcome, failed: Bool, duration: Duration) {
        let m = metrics(name, queue)
        m.inFlight.decrement()
        m.duration.recordNanoseconds(Self.nanoseconds(duration))
        if failed { m.failed.increment() }
        switch outcome {
        case .succeeded: m.succeeded.increment()
        case .retried: m.retried.increment()
        case .deadLettered: m.deadLettered.increment()
        case .deferred: m.deferred.increment()
        case .abandoned: m.abandoned.increment()
        case .interrupted: m.interrupted.increment()
        }
    }

    /// Counts a delivery dead-lettered before any job ran, by queue and reason.
    public func messageRejected(queue: String, reason: DeadLetterReason) {
        let key = "\(queue)\u{0}\(reason.rawValue)"
        let counter = rejected.withLock { table in
            if let c = table[key] { return c }
            let c = Counter(label: MetricName.messagesRejected, dimensions: [("queue", queue), ("reason", reason.rawValue)],
                            factory: factory)
            table[key] = c
            return c
        }
        counter.increment()
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s.multipliedReportingOverflow(by: 1_000_000_000).overflow ? .max : s * 1_000_000_000 + atto / 1_000_000_000
    }
}
