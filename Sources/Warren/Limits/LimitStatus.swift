import WarrenAMQP

/// The state of one limit across workers, read from its queue on the broker: for ``warren status`` and the
/// dashboard.
public struct LimitStatus: Sendable, Hashable, Codable {
    /// The limited job.
    public var job: String
    /// `global` (``GlobalLimit``) or `rate` (``RateLimit``).
    public var kind: String
    /// The limit as text: `4 at once`, `200/s burst 200`.
    public var limit: String
    /// The broker queue behind it.
    public var queue: String
    /// Global: leases held now (permits minus free tokens). Rate: `nil`.
    public var holders: Int?
    /// Global: free tokens. Rate: tokens saved up in the bucket.
    public var available: Int?
    /// Jobs waiting for a token now, across all workers (each waits with a consumer on the queue).
    public var waiters: Int?

    /// Reads the state of unkeyed limits written as for ``JobRegistry/applyLimits(global:rate:)`` (`JOB=N`,
    /// `JOB=N/s`); a queue no worker made yet shows no counts. Per-key limits have one queue per key and are
    /// not listed.
    public static func read(global: [String], rate: [String], on channel: AMQPChannel) async throws(WarrenError) -> [LimitStatus] {
        var out: [LimitStatus] = []
        for spec in global {
            let (job, value) = try split(spec)
            guard let n = Int(value), n >= 1 else { throw WarrenError(.invalidInput, "--global-limit \(spec): N must be a positive integer") }
            let queue = GlobalLimit(permits: n).queueName(job: job, key: nil)
            let info = await inspect(queue, channel)
            out.append(LimitStatus(job: job, kind: "global", limit: "\(n) at once", queue: queue,
                                   holders: info.map { n - Int($0.messageCount) }, available: info.map { Int($0.messageCount) },
                                   waiters: info.map { Int($0.consumerCount) }))
        }
        for spec in rate {
            let (job, value) = try split(spec)
            let limit = try RateLimit(parsing: value)
            let queue = limit.queueName(job: job, key: nil)
            let info = await inspect(queue, channel)
            out.append(LimitStatus(job: job, kind: "rate", limit: "\(limit)", queue: queue, holders: nil,
                                   available: info.map { Int($0.messageCount) }, waiters: info.map { Int($0.consumerCount) }))
        }
        return out
    }

    private static func inspect(_ queue: String, _ channel: AMQPChannel) async -> QueueInfo? {
        (try? await channel.queueIfExists(queue)) ?? nil
    }

    private static func split(_ spec: String) throws(WarrenError) -> (String, String) {
        let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { throw WarrenError(.invalidInput, "limit '\(spec)': expected JOB=VALUE") }
        return (parts[0], parts[1])
    }

    /// One line for a table: `span  global  4 at once  holders 3  free 1  waiting 12`.
    public var line: String {
        func n(_ v: Int?) -> String { v.map(String.init) ?? "n/a" }
        let head = "\(job)  \(kind)  \(limit)"
        return kind == "global" ? "\(head)  holders \(n(holders))  free \(n(available))  waiting \(n(waiters))"
            : "\(head)  tokens \(n(available))  waiting \(n(waiters))"
    }
}
