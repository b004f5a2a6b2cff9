import Logging
import Synchronization

/// Run time of the jobs the worker's runners finished, and the time their settlements took after the run
/// where those waited for I/O, summed since they were last taken.
final class RunTimeMeter: Sendable {
    /// Run times' sum and count, and how many of those jobs were settled as they finished.
    private let state = Mutex<(total: Duration, count: Int, settledNow: Int)>((.zero, 0, 0))
    /// Settlements that finished after their run, and their nanoseconds after it: added from the
    /// settlements' completions, wherever they run, without a lock.
    private let settledLater = Atomic<Int>(0)
    private let settling = Atomic<Int>(0)

    /// A job that ran for `duration`; `settledNow`: its delivery was settled on the runner as it finished.
    func record(_ duration: Duration, settledNow: Bool) {
        state.withLock { s in
            s.total += duration
            s.count += 1
            if settledNow { s.settledNow += 1 }
        }
    }

    /// A settlement that finished `duration` after its job's run did.
    func recordSettling(_ duration: Duration) {
        settling.wrappingAdd(Int(duration / .nanoseconds(1)), ordering: .relaxed)
        settledLater.wrappingAdd(1, ordering: .relaxed)
    }

    /// The run times' sum and count, and the settlements' (those settled as the run finished counting zero),
    /// so far, resetting them.
    func take() -> (total: Duration, count: Int, settling: Duration, settled: Int) {
        let s = state.withLock { s in
            defer { s = (.zero, 0, 0) }
            return s
        }
        let later = settledLater.exchange(0, ordering: .relaxed)
        return (s.total, s.count, .nanoseconds(settling.exchange(0, ordering: .relaxed)), s.settledNow + later)
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
        var settling = Duration.zero
        var settled = 0
        var count = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: rule.nextEvaluation(sinceStart: .now - start, changed: lastChange != nil))
            if Task.isCancelled { return }
            let taken = meter.take()
            total += taken.total
            settling += taken.settling
            settled += taken.settled
            count += taken.count
            let now = ContinuousClock.now
            guard let mean = rule.meanRunTime(total: total, count: count, window: now - windowStart) else { continue }
            let meanSettle = settled > 0 ? settling / settled : .zero
            (total, settling, settled, count, windowStart) = (.zero, .zero, 0, 0, now)
            let target = rule.target(concurrency: concurrency, meanRunTime: mean, meanSettleTime: meanSettle)
            guard let next = rule.change(current: current, target: target, sinceLastChange: lastChange.map { now - $0 }) else { continue }
            logger.info("changing the prefetch", metadata: [
                "from": "\(current)", "to": "\(next)", "mean_job_run_time": "\(mean)", "mean_settle_time": "\(meanSettle)",
            ])
            await consumers.restart(prefetch: next)
            current = next
            lastChange = ContinuousClock.now
        }
    }
}
