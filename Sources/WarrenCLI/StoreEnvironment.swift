import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenStore

/// The job store named by `WARREN_STORE` / `WARREN_STORE_FILE`, for the commands that use one.
enum StoreEnvironment {
    /// Opens the configured store (migrating its schema), or `nil` when none is configured.
    static func open(logger: Logger) async throws -> (any JobStore)? {
        guard let url = try StoreURL.fromEnvironment() else { return nil }
        logger.info("job store", metadata: ["store": "\(url)"])
        return try await url.open(logger: logger)
    }

    /// Opens the configured store; fails naming the setting when none is configured.
    static func require(_ feature: String, logger: Logger) async throws -> any JobStore {
        guard let store = try await open(logger: logger) else { throw StoreError.notConfigured(feature) }
        return store
    }

    /// Seconds (from `parseDuration`) as a Duration.
    static func duration(_ text: String) throws -> Duration {
        try parseDuration(text)
    }
}

/// Options of the worker's job store (used only when WARREN_STORE is set).
struct StoreOptions: ParsableArguments {
    @Option(help: "Finished jobs are deleted from the job store this long after they finish (env WARREN_STORE_RETENTION).")
    var storeRetention: String = ProcessInfo.processInfo.environment["WARREN_STORE_RETENTION"] ?? "7d"

    @Option(help: "A running job whose worker stopped heartbeating this long is marked lost (env WARREN_STORE_STALE_AFTER).")
    var storeStaleAfter: String = ProcessInfo.processInfo.environment["WARREN_STORE_STALE_AFTER"] ?? "60s"

    @Option(help: "How often running jobs are heartbeated in the job store.")
    var storeHeartbeat: String = "10s"

    @Option(help: "How often this worker sweeps the job store.")
    var storeSweepInterval: String = "30s"

    func policy() throws -> SweepPolicy {
        SweepPolicy(retention: try StoreEnvironment.duration(storeRetention), staleAfter: try StoreEnvironment.duration(storeStaleAfter))
    }

    func tracker() throws -> JobTrackerConfiguration {
        var c = JobTrackerConfiguration()
        c.heartbeatInterval = try StoreEnvironment.duration(storeHeartbeat)
        return c
    }
}
