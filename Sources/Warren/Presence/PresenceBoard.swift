import Foundation
import Synchronization
import WarrenAMQP

/// Listens to ``Announcement``s and keeps who runs (``processes(now:)``) and what they did per queue
/// over the last minutes (``activity(now:)``), for dashboards. Its queue is exclusive to its connection and
/// deleted with it; nothing accumulates on the broker.
///
/// Rates come from the difference between two announcements of the same process, added into buckets of
/// ``bucketSeconds``; the first announcement of a process only sets its baseline.
public final class PresenceBoard: Sendable {
    /// Width of a history bucket, seconds. Default 5.
    public let bucketSeconds: Double
    /// Buckets kept (default 60: five minutes).
    public let historyBuckets: Int
    /// The window rates are averaged over, seconds. Default 30.
    public let rateWindow: Double

    private struct Seen {
        var announcement: Announcement
        var receivedAt: Date
    }
    private struct State {
        var seen: [String: Seen] = [:]
        /// bucket index -> queue -> counters received in it
        var buckets: [Int: [String: Announcement.QueueCounters]] = [:]
    }
    private let state = Mutex(State())
    private let consumer = Mutex<AMQPConsumer?>(nil)

    /// An empty board.
    public init(bucketSeconds: Double = 5, historyBuckets: Int = 60, rateWindow: Double = 30) {
        self.bucketSeconds = bucketSeconds
        self.historyBuckets = historyBuckets
        self.rateWindow = rateWindow
    }

    /// Starts listening on `connection`: declares the exchange and a queue of this board's own, bound to it.
    public func listen(on connection: AMQPConnection) async throws(AMQPError) {
        let channel = try await connection.openChannel()
        try await channel.declareExchange(Announcement.exchange, type: .fanout, durable: false)
        let queue = "warren.presence.\(UUID().uuidString.prefix(12).lowercased())"
        try await channel.declareQueue(queue, durable: false, exclusive: true, autoDelete: true,
                                       arguments: ["x-message-ttl": .int32(60_000), "x-max-length": .int32(10_000)])
        try await channel.bindQueue(queue, exchange: Announcement.exchange, routingKey: "")
        let c = try await channel.consume(queue: queue, noAck: true) { [weak self] event in
            guard case .delivery(let d) = event, let a = Announcement.decode(d.body) else { return }
            self?.receive(a)
        }
        consumer.withLock { $0 = c }
    }

    /// Takes one announcement in, received at `now`.
    public func receive(_ a: Announcement, now: Date = Date()) {
        let bucket = Int((now.timeIntervalSince1970 / bucketSeconds).rounded(.down))
        state.withLock { s in
            if let before = s.seen[a.id]?.announcement {
                for (queue, c) in a.counters {
                    let p = before.counters[queue] ?? .init()
                    var d = s.buckets[bucket, default: [:]][queue] ?? .init()
                    d.succeeded += max(0, c.succeeded - p.succeeded)
                    d.failed += max(0, c.failed - p.failed)
                    d.retried += max(0, c.retried - p.retried)
                    d.deadLettered += max(0, c.deadLettered - p.deadLettered)
                    s.buckets[bucket, default: [:]][queue] = d
                }
            }
            if a.stopping { s.seen[a.id] = nil } else { s.seen[a.id] = Seen(announcement: a, receivedAt: now) }
            s.buckets = s.buckets.filter { $0.key > bucket - historyBuckets }
        }
    }

    /// The processes heard from within ``Announcement/expiryFactor`` of their interval, by role then host.
    public func processes(now: Date = Date()) -> [Announcement] {
        state.withLock { s in
            s.seen = s.seen.filter { now.timeIntervalSince($0.value.receivedAt) <= $0.value.announcement.interval * Announcement.expiryFactor }
            return s.seen.values.map(\.announcement).sorted { ($0.role, $0.host, $0.id) < ($1.role, $1.host, $1.id) }
        }
    }

    /// Per-second rates per queue over ``rateWindow``, and the history of all queues together.
    public func activity(now: Date = Date()) -> Activity {
        let current = Int((now.timeIntervalSince1970 / bucketSeconds).rounded(.down))
        let windowBuckets = max(1, Int((rateWindow / bucketSeconds).rounded()))
        let buckets = state.withLock { $0.buckets }
        var sums: [String: Announcement.QueueCounters] = [:]
        for (b, queues) in buckets where b > current - windowBuckets {
            for (q, c) in queues { sums[q, default: .init()].add(c) }
        }
        let span = Double(windowBuckets) * bucketSeconds
        let rates = sums.keys.sorted().map { q in
            let c = sums[q]!
            return Activity.QueueRates(queue: q, processed: Double(c.succeeded + c.failed) / span, failed: Double(c.failed) / span,
                                       retried: Double(c.retried) / span, deadLettered: Double(c.deadLettered) / span)
        }
        let history = ((current - historyBuckets + 1)...current).map { b -> Activity.Point in
            var c = Announcement.QueueCounters()
            for (_, q) in buckets[b] ?? [:] { c.add(q) }
            return Activity.Point(at: Date(timeIntervalSince1970: Double(b) * bucketSeconds),
                                  processed: Double(c.succeeded + c.failed) / bucketSeconds, failed: Double(c.failed) / bucketSeconds)
        }
        return Activity(bucketSeconds: bucketSeconds, rateWindow: span, queues: rates, history: history)
    }

    /// Stops listening.
    public func stop() async {
        let c = consumer.withLock { c in defer { c = nil }; return c }
        await c?.cancel()
    }
}

/// Job rates seen through announcements.
public struct Activity: Sendable, Codable, Hashable {
    /// Rates of one work queue, per second.
    public struct QueueRates: Sendable, Codable, Hashable {
        /// Work queue.
        public var queue: String
        /// Attempts finished (succeeded or failed).
        public var processed: Double
        /// Attempts failed.
        public var failed: Double
        /// Attempts retried.
        public var retried: Double
        /// Jobs dead-lettered.
        public var deadLettered: Double
    }
    /// One history bucket, all queues together.
    public struct Point: Sendable, Codable, Hashable {
        /// Start of the bucket.
        public var at: Date
        /// Processed per second.
        public var processed: Double
        /// Failed per second.
        public var failed: Double
    }
    /// Width of a history bucket, seconds.
    public var bucketSeconds: Double
    /// The window ``queues`` is averaged over, seconds.
    public var rateWindow: Double
    /// Per queue, sorted by name.
    public var queues: [QueueRates]
    /// Oldest first, the last one still filling.
    public var history: [Point]
}

extension Announcement.QueueCounters {
    mutating func add(_ o: Self) {
        succeeded += o.succeeded
        failed += o.failed
        retried += o.retried
        deadLettered += o.deadLettered
    }
}
