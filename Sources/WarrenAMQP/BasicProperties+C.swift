import CRabbitMQ

// librabbitmq-c's AMQP_BASIC_*_FLAG macros import as Int32 while `_flags` is UInt32: spelled out here once.
enum BasicFlag {
    static let contentType: UInt32 = 1 << 15
    static let contentEncoding: UInt32 = 1 << 14
    static let headers: UInt32 = 1 << 13
    static let deliveryMode: UInt32 = 1 << 12
    static let priority: UInt32 = 1 << 11
    static let correlationID: UInt32 = 1 << 10
    static let replyTo: UInt32 = 1 << 9
    static let expiration: UInt32 = 1 << 8
    static let messageID: UInt32 = 1 << 7
    static let timestamp: UInt32 = 1 << 6
    static let type: UInt32 = 1 << 5
    static let userID: UInt32 = 1 << 4
    static let appID: UInt32 = 1 << 3
    static let clusterID: UInt32 = 1 << 2
}

extension BasicProperties {
    /// Properties copied out of the library's; `repeated` makes the strings that repeat from message to
    /// message (content type, job name...), the unique ones (message and correlation id) are decoded anew.
    init(_ p: amqp_basic_properties_t, repeated: inout StringInterner) {
        let f = p._flags
        func has(_ flag: UInt32) -> Bool { f & flag != 0 }
        var v = Fields()
        if has(BasicFlag.contentType) { v.contentType = repeated.string(p.content_type) }
        if has(BasicFlag.contentEncoding) { v.contentEncoding = repeated.string(p.content_encoding) }
        if has(BasicFlag.headers) { v.headers = FieldTableCodec.decode(p.headers) }
        if has(BasicFlag.deliveryMode) { v.persistent = p.delivery_mode == 2 }
        if has(BasicFlag.priority) { v.priority = p.priority }
        if has(BasicFlag.correlationID) { v.correlationID = p.correlation_id.string }
        if has(BasicFlag.replyTo) { v.replyTo = repeated.string(p.reply_to) }
        if has(BasicFlag.expiration) { v.expiration = repeated.string(p.expiration) }
        if has(BasicFlag.messageID) { v.messageID = p.message_id.string }
        if has(BasicFlag.timestamp) { v.timestamp = p.timestamp }
        if has(BasicFlag.type) { v.type = repeated.string(p.type) }
        if has(BasicFlag.userID) { v.userID = repeated.string(p.user_id) }
        if has(BasicFlag.appID) { v.appID = repeated.string(p.app_id) }
        if has(BasicFlag.clusterID) { v.clusterID = repeated.string(p.cluster_id) }
        self.init(fields: v)
    }

    /// C properties whose memory lives in `arena`.
    func cProperties(in arena: CArena) -> amqp_basic_properties_t {
        var p = amqp_basic_properties_t()
        var f: UInt32 = 0
        func set(_ s: String?, _ flag: UInt32, _ field: inout amqp_bytes_t) {
            guard let s else { return }
            field = arena.bytes(s)
            f |= flag
        }
        set(contentType, BasicFlag.contentType, &p.content_type)
        set(contentEncoding, BasicFlag.contentEncoding, &p.content_encoding)
        if let headers { p.headers = FieldTableCodec.encode(headers, in: arena); f |= BasicFlag.headers }
        if let persistent { p.delivery_mode = persistent ? 2 : 1; f |= BasicFlag.deliveryMode }
        if let priority { p.priority = priority; f |= BasicFlag.priority }
        set(correlationID, BasicFlag.correlationID, &p.correlation_id)
        set(replyTo, BasicFlag.replyTo, &p.reply_to)
        set(expiration, BasicFlag.expiration, &p.expiration)
        set(messageID, BasicFlag.messageID, &p.message_id)
        if let timestamp { p.timestamp = timestamp; f |= BasicFlag.timestamp }
        set(type, BasicFlag.type, &p.type)
        set(userID, BasicFlag.userID, &p.user_id)
        set(appID, BasicFlag.appID, &p.app_id)
        set(clusterID, BasicFlag.clusterID, &p.cluster_id)
        p._flags = f
        return p
    }
}
