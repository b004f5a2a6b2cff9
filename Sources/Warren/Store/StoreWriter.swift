import Foundation
import Logging
import Synchronization

/// Batches a job store's writes into group commits: whatever arrives while one transaction is in flight
/// goes into the next. Awaited writes (outcomes, before the ack) start a commit at once; writes nobody
/// waits for (`running`, progress, heartbeats) linger up to `linger` first, so a short job's `running`
/// and outcome usually become one row. A failed commit is retried (with a pause) for up to `retryFor`, then given up with an
/// error log: the jobs then show their previous state until the sweeper marks them lost.
final class StoreWriter: Sendable {
    private struct Pending {
        var updates: [JobUpdate] = []
        var releases: [UniqueRelease] = []
        var heartbeats: [String] = []
        var waiters: [CheckedContinuation<Void, Never>] = []
        /// Flush loops running (at most the store's ``JobStore/concurrentWrites``).
        var flushes = 0
        var lingering = false
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

    /// Queues writes for a commit within `linger`; returns at once.
    func submit(_ updates: [JobUpdate], releases: [UniqueRelease] = [], heartbeats: [String] = []) {
        let wait = pending.withLock { p -> Bool in
            p.updates += updates
            p.releases += releases
            p.heartbeats += heartbeats
            guard p.flushes == 0, !p.lingering else { return false }
            p.lingering = true
            return true
        }
        guard wait else { return }
        let linger = self.linger
        Task {
            try? await Task.sleep(for: linger)
            let start = self.pending.withLock { p -> Bool in
                p.lingering = false
                return self.startFlushing(&p)
            }
            if start { await self.flushLoop() }
        }
    }

    /// Queues writes and returns once they are committed (or given up on).
    func write(_ updates: [JobUpdate], releases: [UniqueRelease] = []) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let start = pending.withLock { p -> Bool in
                p.updates += updates
                p.releases += releases
                p.waiters.append(c)
                return startFlushing(&p)
            }
            if start { Task { await self.flushLoop() } }
        }
    }

    private func startFlushing(_ p: inout Pending) -> Bool {
        guard p.flushes < maxFlushes else { return false }
        p.flushes += 1
        return true
    }

    /// Commits batches until nothing is pending.
    private func flushLoop() async {
        while true {
            let taken = pending.withLock { p -> Pending? in
                if p.updates.isEmpty && p.releases.isEmpty && p.heartbeats.isEmpty && p.waiters.isEmpty {
                    p.flushes -= 1
                    return nil
                }
                let t = p
                p = Pending(flushes: p.flushes, lingering: p.lingering)
                return t
            }
            guard let taken else { return }
            // Sorted by job id: concurrent commits lock rows in one order, so they wait for each other, never deadlock.
            let updates = JobUpdate.coalesce(taken.updates).sorted { $0.id < $1.id }
            let batch = StoreBatch(updates: updates, heartbeats: Array(Set(taken.heartbeats)),
                                   releases: taken.releases)
            await commit(batch)
            for w in taken.waiters { w.resume() }
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
