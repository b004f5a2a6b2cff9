/// The AMQP `basic` content properties of a message. Every field is optional; `nil` is "not set".
public struct BasicProperties: Sendable, Hashable {
    /// The fields, boxed (``CopyOnWrite``): a delivery's properties are copied into its job envelope and
    /// on through the worker, and each copy of fourteen optional fields was a dozen retains.
    private var storage: CopyOnWrite<Fields>

    struct Fields: Sendable, Hashable {
        var contentType: String? = nil
        var contentEncoding: String? = nil
        var headers: FieldTable? = nil
        var persistent: Bool? = nil
        var priority: UInt8? = nil
        var correlationID: String? = nil
        var replyTo: String? = nil
        var expiration: String? = nil
        var messageID: String? = nil
        var timestamp: UInt64? = nil
        var type: String? = nil
        var userID: String? = nil
        var appID: String? = nil
        var clusterID: String? = nil
    }

    /// MIME type of the body, e.g. `application/json`.
    public var contentType: String? {
        get { storage.value.contentType }
        _modify { yield &storage.value.contentType }
    }
    /// Encoding of the body, e.g. `gzip`.
    public var contentEncoding: String? {
        get { storage.value.contentEncoding }
        _modify { yield &storage.value.contentEncoding }
    }
    /// Application headers.
    public var headers: FieldTable? {
        get { storage.value.headers }
        _modify { yield &storage.value.headers }
    }
    /// `true` for persistent (delivery mode 2), `false` for transient (1).
    public var persistent: Bool? {
        get { storage.value.persistent }
        _modify { yield &storage.value.persistent }
    }
    /// Priority 0...255 (queues honour up to their `x-max-priority`).
    public var priority: UInt8? {
        get { storage.value.priority }
        _modify { yield &storage.value.priority }
    }
    /// Correlation id.
    public var correlationID: String? {
        get { storage.value.correlationID }
        _modify { yield &storage.value.correlationID }
    }
    /// Reply-to queue name.
    public var replyTo: String? {
        get { storage.value.replyTo }
        _modify { yield &storage.value.replyTo }
    }
    /// Per-message TTL in milliseconds, as the decimal string AMQP carries.
    public var expiration: String? {
        get { storage.value.expiration }
        _modify { yield &storage.value.expiration }
    }
    /// Message id.
    public var messageID: String? {
        get { storage.value.messageID }
        _modify { yield &storage.value.messageID }
    }
    /// Timestamp, seconds since the Unix epoch.
    public var timestamp: UInt64? {
        get { storage.value.timestamp }
        _modify { yield &storage.value.timestamp }
    }
    /// Message type name.
    public var type: String? {
        get { storage.value.type }
        _modify { yield &storage.value.type }
    }
    /// Publishing user id (the broker checks it against the connection's user).
    public var userID: String? {
        get { storage.value.userID }
        _modify { yield &storage.value.userID }
    }
    /// Publishing application id.
    public var appID: String? {
        get { storage.value.appID }
        _modify { yield &storage.value.appID }
    }
    /// Deprecated cluster id field; carried for completeness.
    public var clusterID: String? {
        get { storage.value.clusterID }
        _modify { yield &storage.value.clusterID }
    }

    /// Creates properties; everything defaults to unset.
    public init(contentType: String? = nil, contentEncoding: String? = nil, headers: FieldTable? = nil,
                persistent: Bool? = nil, priority: UInt8? = nil, correlationID: String? = nil,
                replyTo: String? = nil, expiration: String? = nil, messageID: String? = nil,
                timestamp: UInt64? = nil, type: String? = nil, userID: String? = nil, appID: String? = nil,
                clusterID: String? = nil) {
        storage = CopyOnWrite(Fields(contentType: contentType, contentEncoding: contentEncoding, headers: headers,
                                     persistent: persistent, priority: priority, correlationID: correlationID,
                                     replyTo: replyTo, expiration: expiration, messageID: messageID, timestamp: timestamp,
                                     type: type, userID: userID, appID: appID, clusterID: clusterID))
    }

    init(fields: Fields) { storage = CopyOnWrite(fields) }

    /// Equal when every field is.
    public static func == (a: BasicProperties, b: BasicProperties) -> Bool {
        a.storage.sharesBox(with: b.storage) || a.storage.value == b.storage.value
    }

    /// Hashes every field.
    public func hash(into hasher: inout Hasher) { storage.value.hash(into: &hasher) }
}
