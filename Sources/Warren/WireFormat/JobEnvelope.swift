import Foundation
import WarrenAMQP

/// A job message as read from the broker: Warren's metadata, decoded leniently, over the original
/// properties and body, which are kept whole so that headers a reader does not know survive retries,
/// dead-lettering and requeueing.
public struct JobEnvelope: Sendable {
    /// The fields, boxed (``CopyOnWrite``): an envelope goes through several hands per job (the decision,
    /// the attempt's closures, the settlement), and a copy of the fields was one retain per string, property
    /// and header table.
    private var storage: CopyOnWrite<Fields>

    struct Fields: Sendable {
        var name: String
        var id: String
        var attempt: Int
        var maxAttempts: Int?
        var queue: String?
        var enqueuedAt: Date?
        var runAt: Date?
        var expiresAt: Date?
        var properties: BasicProperties
        var body: [UInt8]
    }

    private init(fields: Fields) { storage = CopyOnWrite(fields) }

    /// Job name (``WireFormat/Header/job``).
    public var name: String {
        get { storage.value.name }
        _modify { yield &storage.value.name }
    }
    /// Job id (`message_id`); a job without one gets a fresh UUID on first read.
    public var id: String {
        get { storage.value.id }
        _modify { yield &storage.value.id }
    }
    /// 1-based attempt number of this delivery.
    public var attempt: Int {
        get { storage.value.attempt }
        _modify { yield &storage.value.attempt }
    }
    /// Attempt limit carried by the message, overriding the worker's policy.
    public var maxAttempts: Int? {
        get { storage.value.maxAttempts }
        _modify { yield &storage.value.maxAttempts }
    }
    /// The work queue the job belongs to, when the message says.
    public var queue: String? {
        get { storage.value.queue }
        _modify { yield &storage.value.queue }
    }
    /// When it was first enqueued.
    public var enqueuedAt: Date? {
        get { storage.value.enqueuedAt }
        _modify { yield &storage.value.enqueuedAt }
    }
    /// Not to run before this time.
    public var runAt: Date? {
        get { storage.value.runAt }
        _modify { yield &storage.value.runAt }
    }
    /// Not to run after this time.
    public var expiresAt: Date? {
        get { storage.value.expiresAt }
        _modify { yield &storage.value.expiresAt }
    }
    /// The original AMQP properties, all headers included.
    public var properties: BasicProperties {
        get { storage.value.properties }
        _modify { yield &storage.value.properties }
    }
    /// The body: the job's arguments as JSON.
    public var body: [UInt8] {
        get { storage.value.body }
        _modify { yield &storage.value.body }
    }

    /// Headers, never nil.
    public var headers: FieldTable { properties.headers ?? [:] }
    /// W3C trace parent, if the producer sent one.
    public var traceparent: String? { HeaderValues.string(headers[WireFormat.Header.traceparent]) }
    /// The failure recorded so far (nil for a job that never failed).
    public var failure: FailureRecord? { FailureRecord(headers: headers) }
    /// Why it was dead-lettered, for messages in a dead-letter queue.
    public var deadReason: DeadLetterReason? {
        HeaderValues.string(headers[WireFormat.Header.deadReason]).flatMap(DeadLetterReason.init(rawValue:))
    }

    /// Reads a message. Throws ``JobDecodingError`` when it cannot be a Warren job.
    public init(properties: BasicProperties, body: [UInt8]) throws(JobDecodingError) {
        if let type = properties.contentType, !type.isEmpty, type != WireFormat.contentType,
           !type.lowercased().hasPrefix("application/json"), !type.lowercased().hasPrefix("text/json")
        {
            throw JobDecodingError("content type '\(type)' is not supported: send the arguments as JSON with content_type application/json")
        }
        if let encoding = properties.contentEncoding, !encoding.isEmpty,
           !["utf-8", "utf8", "identity"].contains(encoding.lowercased())
        {
            throw JobDecodingError("content encoding '\(encoding)' is not supported (send uncompressed UTF-8 JSON)")
        }
        // One pass over the headers (a job carries few), instead of a hashed lookup per field.
        // The header wins over `type` (``WireFormat/jobName(_:)``), in the same one pass.
        var nameValue = WireFormat.typeName(properties)
        var version: FieldValue?, attemptValue: FieldValue?
        var maxAttempts: Int?, queue: String?, enqueuedAt: Date?, runAt: Date?, expiresAt: Date?
        for (key, value) in properties.headers ?? [:] {
            switch key {
            case WireFormat.Header.job: nameValue = value
            case WireFormat.Header.version: version = value
            case WireFormat.Header.attempt: attemptValue = value
            case WireFormat.Header.maxAttempts: maxAttempts = HeaderValues.int(value)
            case WireFormat.Header.queue: queue = HeaderValues.string(value)
            case WireFormat.Header.enqueuedAt: enqueuedAt = HeaderValues.date(value)
            case WireFormat.Header.runAt: runAt = HeaderValues.date(value)
            case WireFormat.Header.expiresAt: expiresAt = HeaderValues.date(value)
            default: break
            }
        }
        guard let nameValue else {
            throw JobDecodingError("missing header '\(WireFormat.Header.job)' (or property 'type') naming the job")
        }
        guard let name = nameValue.stringValue, !name.isEmpty else {
            throw JobDecodingError("header '\(WireFormat.Header.job)' must be a non-empty string")
        }
        if let version, let v = HeaderValues.int(version), v > WireFormat.version {
            throw JobDecodingError("wire format version \(v) is newer than this worker understands (\(WireFormat.version))")
        }
        let attempt = HeaderValues.int(attemptValue) ?? 1
        guard attempt >= 1 else { throw JobDecodingError("header '\(WireFormat.Header.attempt)' must be >= 1") }
        let id = properties.messageID.flatMap { $0.isEmpty ? nil : $0 } ?? JobID.make()
        var properties = properties
        if properties.messageID != id { properties.messageID = id }  // kept through retries
        self.init(fields: Fields(name: name, id: id, attempt: attempt, maxAttempts: maxAttempts, queue: queue,
                                 enqueuedAt: enqueuedAt ?? Self.enqueuedTime(properties, id: id), runAt: runAt,
                                 expiresAt: expiresAt, properties: properties, body: body))
    }

    /// Builds a new job message (producer side).
    public init(name: String, id: String, queue: String, arguments: [UInt8], enqueuedAt: Date, maxAttempts: Int? = nil,
                runAt: Date? = nil, expiresAt: Date? = nil, priority: UInt8? = nil, correlationID: String? = nil,
                headers extra: FieldTable = [:]) {
        let properties = Self.properties(name: name, id: id, enqueuedAt: enqueuedAt, maxAttempts: maxAttempts, runAt: runAt,
                                         expiresAt: expiresAt, priority: priority, correlationID: correlationID, headers: extra)
        self.init(fields: Fields(name: name, id: id, attempt: 1, maxAttempts: maxAttempts, queue: queue, enqueuedAt: enqueuedAt,
                                 runAt: runAt, expiresAt: expiresAt, properties: properties, body: arguments))
    }

    /// When a job without header ``WireFormat/Header/enqueuedAt`` was enqueued: its `timestamp` property
    /// (seconds), to the millisecond when its id is a version-7 UUID made in that second or the one before
    /// (Warren's producers make the id just before they stamp the message, ``JobID``); `nil` without a
    /// timestamp.
    static func enqueuedTime(_ properties: BasicProperties, id: String) -> Date? {
        guard let seconds = properties.timestamp else { return nil }
        if let ms = JobID.milliseconds(of: id), ms / 1000 == seconds || ms / 1000 &+ 1 == seconds {
            return Date(millisecondsSince1970: Int(ms))
        }
        return Date(timeIntervalSince1970: Double(seconds))
    }

    /// The AMQP properties of a new job: what ``init(name:id:queue:arguments:enqueuedAt:maxAttempts:runAt:expiresAt:priority:correlationID:headers:)``
    /// stores, for producers that need only the message.
    static func properties(name: String, id: String, enqueuedAt: Date, maxAttempts: Int?, runAt: Date?, expiresAt: Date?,
                           priority: UInt8?, correlationID: String?, headers extra: FieldTable) -> BasicProperties {
        // Only what a reader cannot default: version 1 and attempt 1 are the defaults, the worker adds the
        // queue when it dead-letters, the name goes in `type` and the enqueue time in `timestamp` (and in
        // the id, when Warren made it). A header table, even of one entry, costs the broker about a fifth
        // more CPU per message (``WireFormat/jobName(_:)``): a plain job carries none. No `content_type`
        // either: absent reads as JSON (every Warren worker has read it so). Encoded, a plain job's
        // properties are then 49 bytes and its name, within RabbitMQ's 64 for a binary kept on the queue
        // process's heap for names up to 15 bytes; a longer binary is one more entry on the list that
        // process walks at every garbage collection (``WireFormat/contentType``).
        var headers = extra
        // The request's name and time stand, as when they were headers set before the caller's.
        headers[WireFormat.Header.job] = nil
        headers[WireFormat.Header.enqueuedAt] = nil
        if let maxAttempts { headers[WireFormat.Header.maxAttempts] = .int32(Int32(clamping: maxAttempts)) }
        if let runAt { headers[WireFormat.Header.runAt] = .milliseconds(runAt) }
        if let expiresAt { headers[WireFormat.Header.expiresAt] = .milliseconds(expiresAt) }
        return BasicProperties(
            contentType: nil, headers: headers.isEmpty ? nil : headers, persistent: true, priority: priority,
            correlationID: correlationID, messageID: id, timestamp: UInt64(max(0, enqueuedAt.timeIntervalSince1970)), type: name)
    }

    /// Sets (or with `nil` removes) one header.
    public mutating func setHeader(_ key: String, _ value: FieldValue?) {
        var h = headers
        h[key] = value
        properties.headers = h
    }

    /// The envelope for the next attempt after `failure`: attempt + 1, error context added.
    public func retried(after failure: FailureRecord.Entry) -> JobEnvelope {
        var next = recordingFailure(failure)
        next.attempt = attempt + 1
        next.setHeader(WireFormat.Header.attempt, .int32(Int32(clamping: attempt + 1)))
        return next
    }

    /// The envelope as it goes to the dead-letter queue: error context, reason and time added.
    public func deadLettered(reason: DeadLetterReason, failure: FailureRecord.Entry, at now: Date = Date()) -> JobEnvelope {
        var dead = recordingFailure(failure)
        dead.setHeader(WireFormat.Header.deadReason, .string(reason.rawValue))
        dead.setHeader(WireFormat.Header.deadAt, .milliseconds(now))
        return dead
    }

    private func recordingFailure(_ entry: FailureRecord.Entry) -> JobEnvelope {
        var e = self
        var h = headers
        h["x-death"] = nil  // broker bookkeeping from delay hops; Warren counts attempts itself
        h[WireFormat.Header.errorType] = .string(entry.type)
        h[WireFormat.Header.errorMessage] = .string(entry.message)
        if h[WireFormat.Header.firstFailedAt] == nil { h[WireFormat.Header.firstFailedAt] = .milliseconds(entry.at) }
        h[WireFormat.Header.lastFailedAt] = .milliseconds(entry.at)
        h[WireFormat.Header.failedHost] = .string(entry.host)
        var history = h[WireFormat.Header.errors]?.arrayValue ?? []
        history.append(entry.fieldValue)
        if history.count > WireFormat.historyLimit { history.removeFirst(history.count - WireFormat.historyLimit) }
        h[WireFormat.Header.errors] = .array(history)
        e.properties.headers = h
        return e
    }

    /// The message that carries this envelope to `exchange` / `routingKey`.
    public func message(exchange: String, routingKey: String, mandatory: Bool = true) -> OutgoingMessage {
        OutgoingMessage(exchange: exchange, routingKey: routingKey, mandatory: mandatory, properties: properties, body: body)
    }
}

/// Why a message could not be read as a Warren job.
public struct JobDecodingError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, for the producer's developer.
    public var description: String
    /// The dead-letter reason it maps to: `undecodable` unless the reader knows better (e.g. `unsupported`
    /// for a Celery canvas, `invalid-arguments` for positional arguments that do not fit).
    public var reason: DeadLetterReason

    /// Creates an error.
    public init(_ description: String, reason: DeadLetterReason = .undecodable) {
        self.description = description
        self.reason = reason
    }
}

/// The failure context a job carries in its headers.
public struct FailureRecord: Sendable, Hashable {
    /// One failed attempt.
    public struct Entry: Sendable, Hashable {
        /// Attempt number that failed.
        public var attempt: Int
        /// Error type name (e.g. the Swift type, or `timeout`).
        public var type: String
        /// Error message.
        public var message: String
        /// When it failed.
        public var at: Date
        /// Worker host name.
        public var host: String

        /// Creates an entry.
        public init(attempt: Int, type: String, message: String, at: Date, host: String) {
            self.attempt = attempt
            self.type = type
            self.message = String(message.prefix(4000))
            self.at = at
            self.host = host
        }

        var fieldValue: FieldValue {
            .table(["attempt": .int32(Int32(clamping: attempt)), "type": .string(type), "message": .string(message),
                    "at": .milliseconds(at), "host": .string(host)])
        }
    }

    /// Last error type.
    public var errorType: String
    /// Last error message.
    public var errorMessage: String
    /// First failure time.
    public var firstFailedAt: Date?
    /// Last failure time.
    public var lastFailedAt: Date?
    /// Last failing host.
    public var host: String?
    /// Failures, oldest first (at most ``WireFormat/historyLimit``).
    public var history: [Entry]

    init?(headers h: FieldTable) {
        guard let type = HeaderValues.string(h[WireFormat.Header.errorType]) else { return nil }
        errorType = type
        errorMessage = HeaderValues.string(h[WireFormat.Header.errorMessage]) ?? ""
        firstFailedAt = HeaderValues.date(h[WireFormat.Header.firstFailedAt])
        lastFailedAt = HeaderValues.date(h[WireFormat.Header.lastFailedAt])
        host = HeaderValues.string(h[WireFormat.Header.failedHost])
        history = (h[WireFormat.Header.errors]?.arrayValue ?? []).compactMap { v in
            guard let t = v.tableValue else { return nil }
            return Entry(attempt: HeaderValues.int(t["attempt"]) ?? 0, type: HeaderValues.string(t["type"]) ?? "",
                         message: HeaderValues.string(t["message"]) ?? "", at: HeaderValues.date(t["at"]) ?? Date(timeIntervalSince1970: 0),
                         host: HeaderValues.string(t["host"]) ?? "")
        }
    }
}

extension JobEnvelope {
    /// Wraps a message that is not a readable job, so it can be dead-lettered with its properties and body intact.
    init(unreadable properties: BasicProperties, body: [UInt8]) {
        let headers = properties.headers ?? [:]
        self.init(fields: Fields(name: HeaderValues.string(WireFormat.jobName(properties)) ?? "", id: properties.messageID ?? "",
                                 attempt: HeaderValues.int(headers[WireFormat.Header.attempt]) ?? 1, maxAttempts: nil,
                                 queue: HeaderValues.string(headers[WireFormat.Header.queue]), enqueuedAt: nil, runAt: nil,
                                 expiresAt: nil, properties: properties, body: body))
    }
}
