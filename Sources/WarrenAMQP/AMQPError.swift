/// An error from the AMQP layer: a stable code, a human message, and, when the broker said it,
/// the broker's reply code and text (for example `404 NOT_FOUND - no queue 'x' in vhost '/'`).
public struct AMQPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. Stable: match on it, not on the message.
    public enum Code: String, Sendable, Hashable {
        /// The connection URL or configuration is malformed.
        case invalidConfiguration
        /// TCP connection refused or failed (closed port, unreachable host, DNS failure).
        case connectFailed
        /// Connecting, the handshake or an RPC took longer than its configured timeout.
        case timeout
        /// The broker refused the credentials (403 ACCESS_REFUSED at login).
        case authenticationFailed
        /// The broker refused access to the virtual host or a resource (e.g. 530 NOT_ALLOWED).
        case accessRefused
        /// TLS handshake or certificate verification failed.
        case tlsFailure
        /// The broker closed the channel; `replyCode`/`replyText` say why. Reopen the channel to go on.
        case channelClosed
        /// The broker closed the connection; `replyCode`/`replyText` say why.
        case connectionClosed
        /// The connection was lost (socket error, missed heartbeats) or is being re-established.
        case connectionLost
        /// The connection was closed by this process.
        case closedByClient
        /// The broker cancelled a consumer (its queue was deleted, or the node went down).
        case consumerCancelled
        /// An ack/nack for a delivery that came on a connection or channel that no longer exists.
        /// The broker has already requeued that message.
        case staleDelivery
        /// A frame or reply that does not fit the protocol.
        case protocolError
        /// A message larger than the configured limit.
        case messageTooLarge
    }

    /// The kind of failure.
    public var code: Code
    /// What happened, for people.
    public var message: String
    /// The broker's AMQP reply code (e.g. 404, 406, 320), when the broker sent one.
    public var replyCode: UInt16?
    /// The broker's reply text, when the broker sent one.
    public var replyText: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, replyCode: UInt16? = nil, replyText: String? = nil) {
        self.code = code
        self.message = message
        self.replyCode = replyCode
        self.replyText = replyText
    }

    public var description: String {
        var s = "AMQPError.\(code.rawValue): \(message)"
        if let replyCode { s += " [\(replyCode)\(replyText.map { " \($0)" } ?? "")]" }
        return s
    }
}
