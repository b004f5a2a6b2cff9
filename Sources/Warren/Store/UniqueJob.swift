import Foundation
import WarrenAMQP

/// Makes an enqueue unique: while the key is held, enqueueing another job with it returns the holder's id
/// instead of a second job. Needs a job store (``TrackedProducer``); a plain ``JobProducer`` refuses it.
///
/// The key is released when the job starts or succeeds (``Release``), **and** when it dies (dead letter) or
/// the lock's time runs out, so a lost lock never blocks the key for longer than `duration`.
public struct UniqueJob: Sendable, Hashable {
    /// When the key is released (besides death and expiry).
    public enum Release: String, Sendable, Hashable, Codable {
        /// When the job's first attempt starts: at most one job with the key waits at a time.
        case start
        /// When the job succeeds: at most one job with the key waits or runs at a time.
        case success
    }

    /// The key; jobs of any name share the key space.
    public var key: String
    /// How long the lock lasts at most.
    public var duration: Duration
    /// When it is released.
    public var release: Release

    /// Unique by `key` for at most `duration`, released at `until` (default on success).
    public static func key(_ key: String, for duration: Duration, until release: Release = .success) -> UniqueJob {
        UniqueJob(key: key, duration: duration, release: release)
    }

    /// Headers that carry the key to the worker (whose job-store middleware releases it).
    enum Header {
        static let key = "warren-unique-key"
        static let release = "warren-unique-release"
    }

    /// Throws for a key no store can hold: empty, over 256 bytes, or a duration that is not positive.
    public func validate() throws(WarrenError) {
        guard !key.isEmpty, key.utf8.count <= 256 else {
            throw WarrenError(.invalidInput, "a unique key must be 1 to 256 bytes long")
        }
        guard duration > .zero else { throw WarrenError(.invalidInput, "a unique key's duration must be positive ('\(key)')") }
    }

    /// The key and release rule a delivery carries, if it was enqueued as unique.
    static func held(in headers: FieldTable) -> (key: String, release: Release)? {
        guard case .string(let key)? = headers[Header.key] else { return nil }
        var release = Release.success
        if case .string(let r)? = headers[Header.release], let parsed = Release(rawValue: r) { release = parsed }
        return (key, release)
    }

    /// Whether a job holding a key with `release` gives it up on `disposition` (pure: the release rule).
    /// Starting is handled apart (the middleware releases `.start` keys before running the job).
    static func releases(_ release: Release, on disposition: Disposition) -> Bool {
        switch disposition {
        case .ack: true                      // success releases both kinds (a `.start` key is already free)
        case .deadLetter: true               // a dead job never holds its key
        case .retry, .defer, .leave, .interrupt: false   // it will run again: keep the key (until it expires)
        }
    }
}

/// What claiming a unique key gave: the new job holds it, or another job already does.
public enum UniqueClaim: Sendable, Hashable {
    /// The key was free (or expired): the new job holds it and was recorded as enqueued.
    case claimed
    /// Job `id` holds the key: nothing was recorded, and nothing must be published.
    case held(by: String)
}

/// A unique key to release, as part of a ``StoreBatch``: only if job `jobID` still holds it.
public struct UniqueRelease: Sendable, Hashable {
    /// The key.
    public var key: String
    /// The job that held it.
    public var jobID: String

    /// Creates a release.
    public init(key: String, jobID: String) {
        self.key = key
        self.jobID = jobID
    }
}
