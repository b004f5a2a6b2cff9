/// How a worker sizes its prefetch when none is fixed (``WorkerConfiguration/prefetch`` is `nil`): it measures
/// how long its jobs take and keeps about ``targetWait`` of work waiting in its buffer, so that a runner that
/// finishes a job finds the next one there instead of waiting for the broker; and it adds the places of the
/// jobs that ran but are still being settled (a job store's group commit, before the ack).
///
/// The rule (pure, see ``target(concurrency:meanRunTime:meanSettleTime:)`` and
/// ``change(current:target:sinceLastChange:)``):
///
///     waiting  = concurrency × (1 + targetWait / mean run time), within concurrency ... max(concurrency, maximum)
///     settling = concurrency × mean settle time / mean run time,  within 0 ... maximumSettling
///     prefetch = waiting + settling
///
/// Short jobs (microseconds to milliseconds) get the maximum, hundreds of deliveries; jobs of a second or more
/// get the concurrency plus a few, so an idle worker next to this one still gets work.
///
/// Why the settling part: an unacked delivery holds its place from delivery to ack, and a job whose outcome
/// waits for I/O (``JobMiddleware/settlementWaitsForIO``: the job store's group commit) holds it for the
/// commit too, a few milliseconds against tens of microseconds of run time for a short job. Without the
/// part those places came out of the waiting work: a tracked worker at a maximum of 512 ran out of work
/// between commits and drained 12-60% slower than with 2,048 (docs/operations.md, "Prefetch"). By Little's
/// law the places settling are the job rate times the settle time; at the runners' full rate
/// (concurrency / run time) that is the formula above. A worker whose jobs are acked as they finish
/// (no store) settles in no time and keeps ``maximum``. The worker starts at the
/// concurrency and changes the prefetch only when the target moved by a factor of 2 or more, and at most once
/// per ``minimumInterval`` (the first change, from the starting value, is not delayed).
///
/// A change costs a consumer restart (RabbitMQ applies `basic.qos` only to consumers started after it):
/// `basic.cancel`, `basic.qos`, `basic.consume`. Deliveries already received stay valid and are run and acked.
///
/// Duplicates after a SIGKILL are bounded by the unacked deliveries the worker held: the prefetch in force
/// (at most ``maximum`` + ``maximumSettling`` per consumer, ``maximum`` when nothing waits to be settled),
/// and for the moments after a change the old prefetch plus the new one.
public struct AdaptivePrefetch: Sendable, Hashable {
    /// Work to keep waiting locally, as time at full concurrency. Default 100 ms.
    public var targetWait: Duration = .milliseconds(100)
    /// Largest prefetch set for work waiting and running, per consumer (raised to the concurrency when
    /// lower). Default 1,024: `warren worker` at default flags drained 20,000 `record` jobs about a quarter
    /// faster with 1,024 than with 512, with less CPU per job, whether the broker was in its cheap state or
    /// its dear one (docs/operations.md, "Prefetch"); 2,048 gained under a tenth more for twice the repeats
    /// after a kill.
    public var maximum: Int = 1_024
    /// Largest number of places added for deliveries whose jobs ran and whose settlement waits for I/O (a job
    /// store's commit), per consumer. Default 512: with a PostgreSQL store, 512 + 512 drained `record` jobs as
    /// fast as 512 + 1,024 (four alternated pairs) with a third fewer places to repeat after a kill.
    public var maximumSettling: Int = 512
    /// Least time between two changes. Default 5 s.
    public var minimumInterval: Duration = .seconds(5)
    /// How often job run times are looked at. Default 500 ms.
    public var evaluationInterval: Duration = .milliseconds(500)
    /// How often they are looked at from the start until the first change, for at most
    /// ``minimumInterval``: a worker of short jobs leaves its starting prefetch (the concurrency) within
    /// about ten milliseconds instead of running its first half second at it. Default 10 ms: at the starting
    /// prefetch (the concurrency) a worker of short jobs pays a wake-up per job: a worker draining `record`
    /// jobs recorded 218-369 of them in its first 50 ms when it looked first after 50 ms, 733-1,159 after 10 ms.
    public var firstEvaluationInterval: Duration = .milliseconds(10)
    /// Jobs that must have finished since the last look before their mean counts, unless
    /// ``minimumInterval`` has passed (then one is enough). Default 8.
    public var minimumSamples: Int = 8

    /// The defaults.
    public init() {}

    /// The prefetch that keeps about ``targetWait`` of work buffered for `concurrency` runners whose jobs
    /// take `meanRunTime` each, plus the places of the deliveries being settled when a settlement takes
    /// `meanSettleTime` on average after the run (over all jobs, those acked at once counting zero).
    public func target(concurrency: Int, meanRunTime: Duration, meanSettleTime: Duration = .zero) -> Int {
        let low = max(1, concurrency)
        let high = max(low, maximum)
        let settlingHigh = max(0, maximumSettling)
        guard meanRunTime > .zero else { return high + (meanSettleTime > .zero ? settlingHigh : 0) }
        return Self.places(low, times: targetWait / meanRunTime, upTo: high - low, base: low)
            + Self.places(low, times: meanSettleTime / meanRunTime, upTo: settlingHigh, base: 0)
    }

    /// `base` + ⌈`count` × `factor`⌉, the product at most `limit`.
    private static func places(_ count: Int, times factor: Double, upTo limit: Int, base: Int) -> Int {
        let extra = Double(count) * factor
        guard extra.isFinite, extra < Double(limit) else { return base + limit }
        return base + max(0, Int(extra.rounded(.up)))
    }

    /// The prefetch to switch to, or `nil` to keep `current`: only when `target` is at least twice or at
    /// most half of `current`, and `sinceLastChange` (`nil`: never changed) is at least ``minimumInterval``.
    public func change(current: Int, target: Int, sinceLastChange: Duration?) -> Int? {
        guard target >= 2 * current || 2 * target <= current else { return nil }
        if let since = sinceLastChange, since < minimumInterval { return nil }
        return target
    }

    /// How long to wait before the next look, `sinceStart` after the worker started, `changed` telling
    /// whether the prefetch was changed yet: ``firstEvaluationInterval`` until the first change (within
    /// ``minimumInterval`` of the start), ``evaluationInterval`` after.
    public func nextEvaluation(sinceStart: Duration, changed: Bool) -> Duration {
        changed || sinceStart >= minimumInterval ? evaluationInterval : min(firstEvaluationInterval, evaluationInterval)
    }

    /// The mean run time of `count` jobs that took `total` together, measured over `window`; `nil` while
    /// too few jobs finished to say (fewer than ``minimumSamples`` before ``minimumInterval``, or none).
    public func meanRunTime(total: Duration, count: Int, window: Duration) -> Duration? {
        guard count > 0, count >= minimumSamples || window >= minimumInterval else { return nil }
        return total / count
    }
}
