import Foundation
import Logging
import ServiceLifecycle

/// Runs a job store's sweep (``JobStore/sweep(_:now:)``) every `interval` until shutdown: deletes finished
/// jobs and settled batches (``BatchRetention``) past retention and marks running jobs whose worker stopped
/// heartbeating as lost, in bounded batches. Several sweepers on one store are harmless (each statement is idempotent).
public struct StoreSweeper: Service {
    let store: any JobStore
    let policy: SweepPolicy
    let interval: Duration
    let logger: Logger

    /// A sweeper of `store` by `policy`, every `interval` (default 30 s).
    public init(store: any JobStore, policy: SweepPolicy = SweepPolicy(), interval: Duration = .seconds(30),
                logger: Logger = Logger(label: "warren.store")) {
        self.store = store
        self.policy = policy
        self.interval = interval
        self.logger = logger
    }

    /// Sweeps now, then every interval, until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do throws(StoreError) {
                    let r = try await store.sweep(policy, now: Date())
                    if r.deleted + r.lost + r.expiredKeys + r.batches > 0 {
                        logger.info("store sweep", metadata: ["deleted": "\(r.deleted)", "lost": "\(r.lost)", "expired_keys": "\(r.expiredKeys)",
                                                              "batches": "\(r.batches)"])
                    }
                } catch {
                    logger.warning("store sweep failed", metadata: ["store": "\(store.location)", "error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
