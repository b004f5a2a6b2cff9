import Foundation
import Logging
import Synchronization

/// Batches a job store's writes into group commits: whatever arrives while one transaction is in flight
/// goes into the next. Awaited writes (outcomes, before the ack) start a commit at once; writes nobody
/// waits for (`running`, progress, heartbeats) linger `linger` first, kept one per job: a commit started
/// meanwhile for other jobs leaves them behind, and the job's outcome, arriving within `linger`, takes
/// them along. So a short job is one row written once, not a row inserted and then updated. A failed
/// commit is retried (with a pause) for up to `retryFor`, then given up with an error log: the jobs then
/// show their previous state until the sweeper marks them lost.
final class StoreWriter: Sendable {
    /// A write nobody awaits (merged per job), and when its first part arrived.
    private struct Lingering {
        var update: JobUpdate
        let since: ContinuousClock.Instant
    }

    private struct Pending {
        /// For the next commit: awaited writes (each merged with its job's lingering one) and lingering ones
        /// that came due.
        var due: [JobUpdate] = []
        /// Writes nobody awaits, by job id, not yet due.
        var lingering: [String: Lingering] = [:]
        var releases: [UniqueRelease] = []
        var heartbeats: [String] = []
        /// Each called once, by the flush that committed its writes.
        var waiters: [@Sendable () -> Void] = []
        /// Flush loops running (at most the store's ``JobStore/concurrentWrites``).
        var flushes = 0
        /// Whether a timer is armed; it is whenever something lingers.
        var timer = false

        /// Whether a commit has something to do now.
        var hasDue: Bool { !due.isEmpty || !releases.isEmpty || !heartbeats.isEmpty || !waiters.isEmpty }
    }

    private let store: any JobStore
    private let retryFor: Duration
    private let linger: Duration
    private let logger: Logger
    private let pending = Mutex(Pending())
    /// Commits in flight at most.
    private let maxFlushes: Int

    init(store: any JobStore, retryFor: Duration, linger: Duration, logger: Logger) {
        self.store = store
        self.maxFlushes = max(1, store.concurrentWrites)
        self.retryFor = retryFor
        self.linger = linger
        self.logger = logger
    }

    /// Queues a write for a commit within `linger` (or with the job's awaited write, if that comes first);
    /// returns at once. One update, not an array: this runs for every job.
    func submit(_ update: JobUpdate, releases: [UniqueRelease] = []) {
        let now = ContinuousClock.now
        let arm = pending.withLock { p -> Bool in
            // One lookup when the job has nothing lingering yet (a job's first write, the usual case).
            if let l = p.lingering.updateValue(Lingering(update: update, since: now), forKey: update.id) {
                p.lingering[update.id] = Lingering(update: l.update.merged(with: update), since: l.since)
            }
            if !releases.isEmpty { p.releases += releases }
            return armTimer(&p)
        }
        if arm { startTimer(after: linger) }
    }

    /// Queues heartbeats of running jobs for a commit within `linger`; returns at once.
    func submit(heartbeats: [String]) {
        let arm = pending.withLock { p -> Bool in
            p.heartbeats += heartbeats
            return armTimer(&p)
        }
        if arm { startTimer(after: linger) }
    }

    /// Whether the caller is to start the timer (none is armed yet).
    private func armTimer(_ p: inout Pending) -> Bool {
        guard !p.timer else { return false }
        p.timer = true
        return true
    }

    /// Queues a write and returns once it is committed (or given up on).
    func write(_ update: JobUpdate, releases: [UniqueRelease] = []) async {
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            write(update, releases: releases) { c.resume() }
        }
    }

    /// Queues a write and calls `committed` once it is committed (or given up on), from the flush that
    /// committed it: keep it short.
    func write(_ update: JobUpdate, releases: [UniqueRelease] = [], committed: @escaping @Sendable () -> Void) {
        let start = pending.withLock { p -> Bool in
            if let l = p.lingering.removeValue(forKey: update.id) { p.due.append(l.update.merged(with: update)) } else { p.due.append(update) }
            if !releases.isEmpty { p.releases += releases }
            p.waiters.append(committed)
            return startFlushing(&p)
        }
        if start { Task.detached { await self.flushLoop() } }
    }

    /// After `delay`: moves what came due to the next commit (starting one if none runs), and re-arms for
    /// the oldest write still lingering.
    private func startTimer(after delay: Duration) {
        Task.detached {
            try? await Task.sleep(for: delay)
            let (start, next) = self.pending.withLock { p -> (Bool, Duration?) in
                let now = ContinuousClock.now
                self.takeDue(&p, now: now)
                let next = p.lingering.values.lazy.map(\.since).min().map { $0 + self.linger - now }
                p.timer = next != nil
                return (p.hasDue && self.startFlushing(&p), next)
            }
            if let next { self.startTimer(after: max(next, .milliseconds(1))) }
            if start { await self.flushLoop() }
        }
    }

    /// Moves the lingering writes older than `linger` to `due`.
    private func takeDue(_ p: inout Pending, now: ContinuousClock.Instant) {
        guard !p.lingering.isEmpty else { return }
        let ripe = p.lingering.filter { now - $0.value.since >= linger }
        for (id, l) in ripe {
            p.due.append(l.update)
            p.lingering[id] = nil
        }
    }

    private func startFlushing(_ p: inout Pending) -> Bool {
        guard p.flushes < maxFlushes else { return false }
        p.flushes += 1
        return true
    }

    /// Commits batches until nothing is due (what still lingers is the timer's).
    private func flushLoop() async {
        while true {
            let taken = pending.withLock { p -> Pending? in
                takeDue(&p, now: .now)
                guard p.hasDue else {
                    p.flushes -= 1
                    return nil
                }
                let t = Pending(due: p.due, releases: p.releases, heartbeats: p.heartbeats, waiters: p.waiters)
                (p.due, p.releases, p.heartbeats, p.waiters) = ([], [], [], [])
                return t
            }
            guard let taken else { return }
            // Sorted by job id: concurrent commits lock rows in one order, so they wait for each other, never deadlock.
            let updates = JobUpdate.coalesce(taken.due)
            let batch = StoreBatch(updates: updates, heartbeats: Array(Set(taken.heartbeats)),
                                   releases: taken.releases)
            await commit(batch)
            for w in taken.waiters { w() }
        }
    }

    private func commit(_ batch: StoreBatch) async {
        guard !batch.isEmpty else { return }
        let deadline = ContinuousClock.now + retryFor
        var attempt = 0
        while true {
            do throws(StoreError) {
                try await store.write(batch)
                return
            } catch {
                attempt += 1
                if ContinuousClock.now >= deadline {
                    logger.error("job store write failed; giving up on this batch", metadata: [
                        "store": "\(store.location)", "jobs": "\(batch.updates.count)", "error": "\(error)"])
                    return
                }
                if attempt == 1 {
                    logger.warning("job store write failed; retrying", metadata: ["store": "\(store.location)", "error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(min(1_000, 50 * attempt)))
            }
        }
    }
}
