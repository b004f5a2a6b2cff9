import Foundation
import WarrenAMQP

/// Reads Celery task messages (protocol 2, JSON serializer) as Warren jobs, so a Python service can keep
/// calling `app.send_task(...)` while a Swift worker runs the task. Add it with
/// `configuration.foreignFormats.append(.celery)`; `docs/wire-format.md` describes what is supported.
///
/// A message is Celery's when it has no `warren-job` header but has the headers `task` and `id`. Then:
/// - `task` names the Swift job; `id` becomes the job id (`message_id`);
/// - the body `[args, kwargs, embed]` becomes one JSON object: positional `args` take the names of
///   ``JobRegistry/Definition/positionalArguments`` in order, `kwargs` keep theirs;
/// - `retries` becomes the attempt (`retries + 1`), `eta` (so `countdown` too) the run-at time, which the
///   worker honours by sending the job through the delay levels, `expires` the expiry time;
/// - every original header and property is kept (`timelimit`, `root_id`, `traceparent`, ...).
///
/// Canvas: `chain`, `link` and `link_error` are kept in the ``WorkflowHeader/celeryCanvas`` header and run
/// by ``WorkflowMiddleware`` (see ``CeleryCanvas``); a chord's header tasks carry its body there too, and
/// its `celery.chord_unlock` runs as ``CeleryChordUnlock`` on a worker with a job store. Nested canvases,
/// other serializers and compression are refused with a ``JobDecodingError`` that names the feature: the
/// worker dead-letters the message. Results are never sent to a result backend: they travel to the next
/// task of a chain or callback, and (through the job store) to a chord's body.
public enum CeleryFormat {
    /// Header names of Celery protocol 2 that Warren reads.
    public enum Header {
        /// Task name.
        public static let task = "task"
        /// Task id.
        public static let id = "id"
        /// Retries so far (0 on the first delivery).
        public static let retries = "retries"
        /// Not before this ISO-8601 time (`countdown` is sent as an `eta`).
        public static let eta = "eta"
        /// Not after this ISO-8601 time.
        public static let expires = "expires"
        /// `[hard, soft]` time limits in seconds; kept, not enforced (the Swift job's timeout applies).
        public static let timelimit = "timelimit"
        /// Compression of the body, when Celery's `task_compression` is set.
        public static let compression = "compression"
    }

    /// Reads a message; `nil` when it is not a Celery protocol 2 message.
    public static func decode(properties: BasicProperties, body: [UInt8], registry: JobRegistry) throws(JobDecodingError) -> JobEnvelope? {
        let headers = properties.headers ?? [:]
        guard WireFormat.jobName(properties) == nil, let task = HeaderValues.string(headers[Header.task]),
              headers[Header.id] != nil
        else { return nil }
        guard !task.isEmpty, let id = HeaderValues.string(headers[Header.id]), !id.isEmpty else {
            throw JobDecodingError("Celery headers 'task' and 'id' must be non-empty strings")
        }
        if let type = properties.contentType, !type.isEmpty, !type.lowercased().hasPrefix("application/json") {
            throw JobDecodingError("Celery task '\(task)' was serialized as '\(type)': Warren reads JSON only; set task_serializer='json'")
        }
        if let compression = HeaderValues.string(headers[Header.compression]) {
            throw JobDecodingError("Celery task '\(task)' is compressed (\(compression)): Warren reads uncompressed JSON; unset task_compression")
        }
        let (args, kwargs, embed) = try parts(of: body, task: task)
        let canvas = try CeleryCanvas.read(embed: embed, task: task)
        let attempt = (HeaderValues.int(headers[Header.retries]) ?? 0) + 1
        let runAt = try time(headers, Header.eta, task: task)
        let expiresAt = try time(headers, Header.expires, task: task)

        var warrenHeaders = headers
        warrenHeaders[WireFormat.Header.version] = .int32(Int32(WireFormat.version))
        warrenHeaders[WireFormat.Header.job] = .string(task)
        warrenHeaders[WireFormat.Header.attempt] = .int32(Int32(clamping: attempt))
        if let runAt { warrenHeaders[WireFormat.Header.runAt] = .milliseconds(runAt) }
        if let expiresAt { warrenHeaders[WireFormat.Header.expiresAt] = .milliseconds(expiresAt) }
        if let canvas { warrenHeaders[WorkflowHeader.celeryCanvas] = canvas.headerValue }
        var warrenProperties = properties
        warrenProperties.headers = warrenHeaders
        warrenProperties.messageID = id
        warrenProperties.contentType = WireFormat.contentType
        // An unknown task cannot have its positional arguments named: keep the Celery body; the worker
        // dead-letters it as `unknown-job`.
        var arguments = body
        if let definition = registry[task] {
            arguments = try PositionalArguments.object(positional: args, keywords: kwargs, for: definition,
                                                       wording: .init(subject: "Celery task '\(task)'", surplusHint: "pass them as kwargs"))
        }
        return try JobEnvelope(properties: warrenProperties, body: arguments)
    }

    /// The body's `[args, kwargs, embed]` (`embed` may be missing or null).
    static func parts(of body: [UInt8], task: String) throws(JobDecodingError) -> ([Any], [String: Any], [String: Any]) {
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) } catch {
            throw JobDecodingError("Celery task '\(task)': body is not valid JSON (expected [args, kwargs, embed])")
        }
        guard let array = value as? [Any], (2...3).contains(array.count), let args = array[0] as? [Any],
              let kwargs = array[1] as? [String: Any]
        else {
            throw JobDecodingError("Celery task '\(task)': body must be the protocol 2 array [args, kwargs, embed] with a list and an object")
        }
        let embed = array.count == 3 ? (array[2] as? [String: Any] ?? [:]) : [:]
        return (args, kwargs, embed)
    }

    /// Whether an `embed` entry asks for something (not null, not an empty list or object).
    static func isPresent(_ value: Any?) -> Bool {
        switch value {
        case nil, is NSNull: return false
        case let list as [Any]: return !list.isEmpty
        case let object as [String: Any]: return !object.isEmpty
        default: return true
        }
    }

    /// A Celery time header: Python's `isoformat()` (microseconds, `+00:00` or no offset, read as UTC).
    static func time(_ headers: FieldTable, _ name: String, task: String) throws(JobDecodingError) -> Date? {
        guard let value = headers[name], value != .void else { return nil }
        guard let date = HeaderValues.string(value).flatMap(HeaderValues.lenientISODate) ?? HeaderValues.date(value) else {
            throw JobDecodingError("Celery task '\(task)': header '\(name)' is not an ISO-8601 time: \(value)")
        }
        return date
    }
}

extension ForeignFormat {
    /// Celery protocol 2 task messages (see ``CeleryFormat``).
    public static let celery = ForeignFormat(name: "celery") { properties, body, registry throws(JobDecodingError) in
        try CeleryFormat.decode(properties: properties, body: body, registry: registry)
    }
}
