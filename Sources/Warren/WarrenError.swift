import WarrenAMQP

/// An error from Warren's jobs layer. Broker errors keep the broker's reply code and text through
/// ``underlying``.
public struct WarrenError: Error, Sendable, CustomStringConvertible {
    /// Stable error kinds.
    public enum Code: String, Sendable, Hashable {
        /// No queue is bound for the job's queue name (declare the topology first).
        case unroutable
        /// The broker kept refusing the message (nack) for another reason than a full queue until the publish
        /// deadline (see ``NackDecision``).
        case nacked
        /// The work queue is at its length limit (``Topology/Queue/maxLength``, `x-overflow=reject-publish`):
        /// the job was not enqueued. The message names the queue and its limit.
        case queueFull
        /// The broker blocked publishers (`connection.blocked`: a memory or disk alarm) for longer than the
        /// publish deadline.
        case brokerBlocked
        /// The message is larger than the configured limit.
        case oversized
        /// The job's arguments could not be encoded or decoded.
        case invalidArguments
        /// The broker or the connection failed; see ``WarrenError/underlying``.
        case broker
        /// Bad configuration or input.
        case invalidInput
        /// A message or job that was looked for does not exist.
        case notFound
    }

    /// The kind of failure.
    public var code: Code
    /// What happened.
    public var message: String
    /// The AMQP error behind it, if any (with the broker's reply code and text).
    public var underlying: AMQPError?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: AMQPError? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// Wraps a broker error.
    public init(_ error: AMQPError, _ context: String) {
        self.init(.broker, "\(context): \(error)", underlying: error)
    }

    public var description: String { "WarrenError.\(code.rawValue): \(message)" }
}
