import Synchronization

/// The worker's runners: one long-lived task per concurrent job, each taking deliveries from the buffer and
/// running them inline (no task is created per job).
///
/// A runner whose job overruns its time limit is replaced rather than waited for: the ``AttemptRunner``
/// monitor cancels it and ``spawn(first:)`` starts a new runner that first settles the timed-out job, then
/// takes deliveries. The old runner stops when its job finally returns. So concurrency stays constant and a
/// job that ignores cancellation never holds a place hostage.
final class JobRunners: Sendable {
    let buffer: DeliveryBuffer
    let processor: JobProcessor
    /// Where each job's run time and settling time go (for the adaptive prefetch).
    let meter: RunTimeMeter

    init(buffer: DeliveryBuffer, processor: JobProcessor, meter: RunTimeMeter) {
        self.buffer = buffer
        self.processor = processor
        self.meter = meter
    }

    /// Starts `count` runners.
    func start(count: Int) {
        for _ in 0..<count { spawn(first: nil) }
    }

    /// Starts a runner; `first` is a taken-over job's settlement, done (and counted finished) before it takes
    /// deliveries.
    func spawn(first: (@Sendable () async -> Void)?) {
        let handle = RunnerHandle()
        handle.set(Task { [self] in
            if let first {
                await first()
                buffer.finished()
            }
            // Once per runner, not per job: counts a delivery settled without a task finished, and the time
            // its settlement took after the run.
            let settled: @Sendable (Duration) -> Void = { [buffer, meter] took in
                meter.recordSettling(took)
                buffer.finished()
            }
            // Each job's run time goes to the adaptive prefetch's meter and the buffer's typical run time.
            let ran: @Sendable (Duration, Bool) -> Void = { [buffer, meter] took, settledNow in
                meter.record(took, settledNow: settledNow)
                buffer.noteRunTime(took)
            }
            var returning = false
            while let item = await buffer.next(returning: returning) {
                returning = true
                let started = ContinuousClock.now
                switch await processor.process(item, runner: handle, takeover: { [self] settle in spawn(first: settle) },
                                               settled: settled) {
                case .done:
                    ran(ContinuousClock.now - started, true)
                    buffer.finished()
                case .settling:
                    ran(ContinuousClock.now - started, false)
                case .settleLater(let settle):
                    let ended = ContinuousClock.now
                    ran(ended - started, false)
                    // Detached: a child of the runner would copy the runner's task-local values (the service
                    // group's shutdown manager) into every job's settlement, two allocations a job for
                    // nothing the settlement reads.
                    Task.detached { [buffer, meter] in
                        await settle()
                        meter.recordSettling(ContinuousClock.now - ended)
                        buffer.finished()
                    }
                case .takenOver:
                    buffer.leave()
                    return
                }
            }
        })
    }
}

/// A runner's task, so that the deadline monitor and shutdown can cancel the job it runs.
final class RunnerHandle: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    func set(_ t: Task<Void, Never>) { task.withLock { $0 = t } }

    /// Cancels the runner's task (its current job sees cancellation). The task is set right after it is
    /// created, long before any job can reach its limit.
    func cancel() { task.withLock { $0 }?.cancel() }
}
