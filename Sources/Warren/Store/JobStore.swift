import Foundation

/// Where Warren keeps the state of jobs beyond the broker: status, results, progress, unique keys.
/// Optional: without one, Warren keeps nothing outside RabbitMQ, and what needs a store (unique jobs,
/// lookups) fails with ``StoreError/Code/notConfigured`` naming `WARREN_STORE`.
///
/// Backends (module WarrenStore): SQLite (one host) and PostgreSQL (clusters). Writers are the worker's
/// ``JobTracker`` middleware (batched, group commits) and ``TrackedProducer`` (enqueue). All methods are
/// safe to call from many tasks at once; errors are ``StoreError``s.
public protocol JobStore: Sendable {
    /// The backend and where it is, without credentials (for logs), e.g. `sqlite:/var/lib/warren.db`.
    var location: String { get }

    /// Creates or upgrades the schema to the version this build knows; returns the versions before and
    /// after. Safe to run from several processes at once.
    @discardableResult
    func migrate() async throws(StoreError) -> (from: Int, to: Int)

    /// Writes `batch` in one transaction: each update is applied only if it does not move its job back
    /// (see ``JobState``), heartbeats touch running jobs, releases free keys still held by their job.
    func write(_ batch: StoreBatch) async throws(StoreError)

    /// How many ``write(_:)`` transactions a writer may keep in flight at once: a pipeline of group commits.
    /// Safe because an update never moves a job back, whatever order commits land in. Default 1, which both
    /// of Warren's backends keep: while a commit is in flight the next one fills, so one commit holds what
    /// several small ones would (docs/store.md, Cost); more suits a store whose commits mostly wait.
    var concurrentWrites: Int { get }

    /// In one transaction: claims `key` for `job` (free, or its lock expired at `job.at`) and records
    /// `job` as enqueued; or, when another job holds it, returns that job's id and records nothing.
    func claim(_ key: UniqueJob, for job: JobUpdate) async throws(StoreError) -> UniqueClaim

    /// The job `id`; ``JobState/unknown`` when never seen.
    func status(_ id: String) async throws(StoreError) -> JobStatus

    /// Jobs matching `query`, most recently changed first.
    func list(_ query: JobQuery) async throws(StoreError) -> [JobStatus]

    /// Who holds unique `key` now (its lock not expired at `now`), if anyone.
    func holder(of key: String, now: Date) async throws(StoreError) -> String?

    /// One bounded sweep at `now`: deletes finished jobs past retention, marks stale running jobs lost,
    /// deletes expired unique keys.
    func sweep(_ policy: SweepPolicy, now: Date) async throws(StoreError) -> SweepReport

    /// Closes connections; the store is unusable afterwards.
    func close() async

    /// The store's ledger of batches (fan-in, ``BatchCoordinator``), when it keeps one.
    var batchLedger: (any BatchLedger)? { get }

    /// Read access to the store's batches (``BatchView``, their children, the recent ones), when it keeps them.
    var batchCatalog: (any BatchCatalog)? { get }
}

extension JobStore {
    /// Default: one write at a time.
    public var concurrentWrites: Int { 1 }

    /// Default: none (batches need a store that keeps a ledger; the SQLite and PostgreSQL stores do).
    public var batchLedger: (any BatchLedger)? { nil }

    /// Default: none (as ``batchLedger``).
    public var batchCatalog: (any BatchCatalog)? { nil }
}

/// An error of a job store.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// Stable error kinds.
    public enum Code: String, Sendable, Hashable {
        /// Something needs a store and none is configured (set `WARREN_STORE` or pass a ``JobStore``).
        case notConfigured
        /// The store setting is malformed (e.g. `WARREN_STORE=mysql://...`).
        case invalidConfiguration
        /// The database could not be reached or refused the login.
        case unavailable
        /// A statement failed.
        case query
        /// The schema is newer than this build knows (downgrade): refused rather than guessed.
        case schemaTooNew
    }

    /// The kind of failure.
    public var code: Code
    /// What happened (never contains a password).
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The error for a feature that needs a store when none is configured.
    public static func notConfigured(_ feature: String) -> StoreError {
        StoreError(.notConfigured, "\(feature) needs a job store: set WARREN_STORE (sqlite:PATH or postgres://user@host:port/db) "
                   + "or WARREN_STORE_FILE, or pass a JobStore (docs/store.md)")
    }

    public var description: String { "StoreError.\(code.rawValue): \(message)" }
}
