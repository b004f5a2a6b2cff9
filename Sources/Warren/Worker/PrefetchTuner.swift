import Logging
import Synchronization

/// Run time of the jobs the worker's runners finished, summed since it was last taken.
final class RunTimeMeter: Sendable {
    private let state = Mutex<(total: Duration, count: Int)>((.zero, 0))

    func record(_ duration: Duration) { state.withLock { $0.total += duration; $0.count += 1 } }

    /// The sum and count so far, resetting both.
    func take() -> (total: Duration, count: Int) {
        state.withLock { s in
            defer { s = (.zero, 0) }
            return s
        }
    }
}

/// Applies ``AdaptivePrefetch`` to a running worker: looks at the jobs' run times every evaluation interval
/// and restarts the consumers with a new prefetch when the rule says so.
struct PrefetchTuner: Sendable {
    let rule: AdaptivePrefetch
    let concurrency: Int
    let meter: RunTimeMeter
    let consumers: WorkerConsumers
    let logger: Logger

    /// Runs until cancelled, starting from `prefetch`.
    func run(from prefetch: Int) async {
        var current = prefetch
        var lastChange: ContinuousClock.Instant?
        let start = ContinuousClock.now
        var windowStart = start
        var total = Duration.zero
        var count = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: rule.nextEvaluation(sinceStart: .now - start, changed: lastChange != nil))
            if Task.isCancelled { return }
            let taken = meter.take()
            total += taken.total
            count += taken.count
            let now = ContinuousClock.now
            guard let mean = rule.meanRunTime(total: total, count: count, window: now - windowStart) else { continue }
            (total, count, windowStart) = (.zero, 0, now)
            let target = rule.target(concurrency: concurrency, meanRunTime: mean)
            guard let next = rule.change(current: current, target: target, sinceLastChange: lastChange.map { now - $0 }) else { continue }
            logger.info("changing the prefetch", metadata: [
                "from": "\(current)", "to": "\(next)", "mean_job_run_time": "\(mean)",
            ])
            await consumers.restart(prefetch: next)
            current = next
            lastChange = ContinuousClock.now
        }
    }
}
