/// The AMQP `basic` content properties of a message. Every field is optional; `nil` is "not set".
public struct BasicProperties: Sendable, Hashable {
    /// MIME type of the body, e.g. `application/json`.
    public var contentType: String?
    /// Encoding of the body, e.g. `gzip`.
    public var contentEncoding: String?
    /// Application headers.
    public var headers: FieldTable?
    /// `true` for persistent (delivery mode 2), `false` for transient (1).
    public var persistent: Bool?
    /// Priority 0...255 (queues honour up to their `x-max-priority`).
    public var priority: UInt8?
    /// Correlation id.
    public var correlationID: String?
    /// Reply-to queue name.
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as the decimal string AMQP carries.
    public var expiration: String?
    /// Message id.
    public var messageID: String?
    /// Timestamp, seconds since the Unix epoch.
    public var timestamp: UInt64?
    /// Message type name.
    public var type: String?
    /// Publishing user id (the broker checks it against the connection's user).
    public var userID: String?
    /// Publishing application id.
    public var appID: String?
    /// Deprecated cluster id field; carried for completeness.
    public var clusterID: String?

    /// Creates properties; everything defaults to unset.
    public init(contentType: String? = nil, contentEncoding: String? = nil, headers: FieldTable? = nil,
                persistent: Bool? = nil, priority: UInt8? = nil, correlationID: String? = nil,
                replyTo: String? = nil, expiration: String? = nil, messageID: String? = nil,
                timestamp: UInt64? = nil, type: String? = nil, userID: String? = nil, appID: String? = nil,
                clusterID: String? = nil) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.persistent = persistent
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
        self.clusterID = clusterID
    }
}
