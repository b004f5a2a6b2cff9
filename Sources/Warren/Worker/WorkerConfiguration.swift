import Foundation
import WarrenAMQP

/// How a worker consumes and runs jobs. Defaults suit most services.
public struct WorkerConfiguration: Sendable {
    /// Work queues to consume (each with its lanes). Default `["default"]`.
    public var queues: [String] = ["default"]
    /// Jobs run at once. Default 16.
    public var concurrency: Int = 16
    /// Unacked deliveries the broker may push per consumer, fixed. Default (`nil`): adaptive, by
    /// ``adaptivePrefetch``: from ``concurrency`` up to 1,024 for short jobs, about ``concurrency`` for
    /// long ones. A fixed prefetch is also the bound on jobs run twice after the worker is killed.
    public var prefetch: Int?
    /// How the prefetch follows the jobs' run time when ``prefetch`` is `nil`. Default ``AdaptivePrefetch/init()``
    /// (about 100 ms of work waiting locally, at most 1,024).
    public var adaptivePrefetch = AdaptivePrefetch()
    /// Largest message body accepted; larger ones are dead-lettered as `oversized`. Default 1 MiB.
    public var maxMessageBytes: Int = 1 << 20
    /// On shutdown, how long in-flight jobs may take to finish before they are cancelled and left unacked
    /// (the broker redelivers them). Default 30 s; keep it below the orchestrator's stop timeout.
    public var shutdownGracePeriod: Duration = .seconds(30)
    /// Retry policy of jobs registered without one. Default ``RetryPolicy/default``.
    public var defaultRetry: RetryPolicy = .default
    /// Time limit of one attempt for jobs registered without one. Default 10 min; keep it well below the
    /// broker's `consumer_timeout` (30 min by default).
    public var defaultTimeout: Duration = .seconds(600)
    /// How lanes of one queue share the worker: strictly highest first, or by weight.
    public var laneSelection: LaneSelection = .strict
    /// Declare the topology of ``queues`` at start. Default `true`.
    public var declareTopology: Bool = true
    /// Extra readers for messages that are not in Warren's format (e.g. Celery protocol 2). Each returns
    /// `nil` when the message is not its format.
    public var foreignFormats: [ForeignFormat] = []
    /// Once consuming, give back the start-up-only code pages of the process (``StartupPages/release()``):
    /// an idle worker then holds about 5 MB resident instead of about 20 MB. A process-wide action, so off by
    /// default for embedding applications; `warren worker` turns it on (env `WARREN_RELEASE_STARTUP_PAGES=0`
    /// turns it off).
    public var releaseStartupPages: Bool = false
    /// Host name written into failure headers.
    public var hostname: String = ProcessInfo.processInfo.hostName

    /// The defaults.
    public init() {}
}

/// How a worker picks between the lanes of a queue.
public enum LaneSelection: Sendable, Hashable {
    /// Always the highest non-empty lane.
    case strict
    /// Lane k with weight `weights[k]` among the non-empty lanes (missing weights count k+1).
    case weighted([Int])
}

/// A reader for a foreign message format, turning it into a Warren job envelope.
public struct ForeignFormat: Sendable {
    /// Name, for logs.
    public var name: String
    /// Exchanges this format's producers publish to with routing key = queue name (Sneakers' `sneakers` for
    /// ActiveJob). A worker that declares its topology declares each (direct, durable, no arguments: as the
    /// other side declares it) and binds every queue it consumes to it by the queue's name. Default none.
    public var exchanges: [String]
    /// Returns `nil` when the message is not in this format; throws when it is but cannot be read.
    public var decode: @Sendable (BasicProperties, [UInt8], JobRegistry) throws(JobDecodingError) -> JobEnvelope?

    /// Creates a format.
    public init(name: String, exchanges: [String] = [],
                decode: @escaping @Sendable (BasicProperties, [UInt8], JobRegistry) throws(JobDecodingError) -> JobEnvelope?) {
        self.name = name
        self.exchanges = exchanges
        self.decode = decode
    }

    /// Declares ``exchanges`` and binds each of `queues` to them, routing key = queue name.
    public func bind(_ queues: [String], on channel: AMQPChannel) async throws(AMQPError) {
        for exchange in exchanges {
            try await channel.declareExchange(exchange, type: .direct)
            for queue in queues { try await channel.bindQueue(queue, exchange: exchange, routingKey: queue) }
        }
    }
}
