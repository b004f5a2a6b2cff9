import Foundation

/// At most ``permits`` attempts of a job running at once across every worker on the broker, for the job as
/// a whole or per key taken from its arguments (a tenant, an account): "at most 5 calls to the payment API
/// at once, over ten workers".
///
/// Built on the broker alone, with no store and no lock timeouts to guess: each limit is a queue of
/// ``permits`` token messages (``queueName(job:key:)``). A worker takes a lease by receiving a token and
/// holding it unacked while the job runs, then gives it back (requeued). A worker that dies, however it dies
/// (SIGKILL, lost network), holds nothing: the broker requeues a dead connection's unacked tokens.
///
/// Waiting: a job over its limit waits without polling (the broker hands it the next returned token) and
/// without holding one of the worker's runners: it is parked, its delivery unacked, and the runner takes
/// other jobs (a worker with global limits raises its default prefetch to twice its concurrency so that
/// parked jobs leave room). Order: within a worker, parked jobs of one limit get leases first come, first
/// served; across workers the broker hands returned tokens to the waiting workers in turn, so no worker is
/// starved, but a job that waited longer on one worker may start after a newer one on another.
///
/// Caveats: changing ``permits`` makes a new token queue (the old one's holders finish under the old
/// limit); when a worker's connection is lost its running jobs' tokens go back at once, so the limit may be
/// exceeded until those jobs end (their deliveries are redelivered too).
public struct GlobalLimit: Sendable {
    /// Most attempts at once, across all workers, per key. At least 1.
    public var permits: Int
    /// The key a job's arguments (JSON) fall under, e.g. a tenant id; `nil` (the default) for one limit for
    /// the whole job. A job whose key function returns `nil` runs unlimited.
    public var key: (@Sendable (_ arguments: [UInt8]) -> String?)?

    /// A limit of `permits` at once for the whole job.
    public init(permits: Int) {
        self.permits = max(1, permits)
        self.key = nil
    }

    /// A limit of `permits` at once per key, the key taken from the job's arguments.
    public init(permits: Int, key: @escaping @Sendable (_ arguments: [UInt8]) -> String?) {
        self.permits = max(1, permits)
        self.key = key
    }

    /// A limit of `permits` at once per value of the top-level JSON argument `field` (a string or a number).
    public static func per(_ field: String, permits: Int) -> GlobalLimit {
        GlobalLimit(permits: permits) { arguments in
            guard let object = try? JSONSerialization.jsonObject(with: Data(arguments)) as? [String: Any] else { return nil }
            switch object[field] {
            case let s as String: return s
            case let n as NSNumber: return n.stringValue
            default: return nil
            }
        }
    }

    /// The token queue of `job`'s limit for `key` (`nil`: the whole job) with ``permits`` tokens:
    /// `warren.limit.<job>[.<key>].n<permits>`.
    public func queueName(job: String, key: String?) -> String {
        "warren.limit.\(job)\(key.map { ".\($0)" } ?? "").n\(permits)"
    }
}
