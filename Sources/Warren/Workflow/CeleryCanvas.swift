import Foundation
import WarrenAMQP

/// A Celery canvas carried by a Celery protocol 2 message (the body's `embed`): the rest of a `chain`,
/// `link` callbacks and `link_error` errbacks. ``CeleryFormat`` keeps it in the
/// ``WorkflowHeader/celeryCanvas`` header; ``WorkflowMiddleware`` sends what it asks for, as Celery
/// messages (so a Python or a Swift worker may run them), with confirms, before the task is acked.
///
/// As Celery does it: the next chain task (the chain's last element) and each callback get the task's
/// result prepended to their args (unless immutable, `.si()`); each errback gets the failed task's id. A
/// task keeps its frozen id (`options.task_id`); one without gets `<parent>.next` or `<parent>.link-N`.
/// A chord's header task carries the body in `chord`: it runs as a plain job whose result the job store
/// records, and the chord's `celery.chord_unlock` publishes the body (``CeleryChordUnlock``). Nested
/// canvases (a group inside a chain) are not carried (docs/wire-format.md).
public struct CeleryCanvas: Sendable, Hashable {
    /// The canvas as JSON text: `{"chain": [...], "callbacks": [...], "errbacks": [...], "chord": {...}}`.
    public let json: String

    /// A message to send: the Celery task message, its id and queue.
    public struct Message: Sendable {
        /// The task id.
        public var id: String
        /// The queue (routing key on the default exchange).
        public var queue: String
        /// The message.
        public var message: OutgoingMessage
    }

    /// The canvas of a message's `embed`, or `nil` when it asks for none. Throws (reason `unsupported`) for
    /// a signature that is not a plain task. A chord's header task keeps its body in `chord` (it runs as a
    /// plain job; the chord's `celery.chord_unlock` publishes the body, see ``CeleryChordUnlock``).
    static func read(embed: [String: Any], task: String) throws(JobDecodingError) -> CeleryCanvas? {
        var object: [String: Any] = [:]
        if CeleryFormat.isPresent(embed["chord"]) {
            guard let body = embed["chord"] as? [String: Any] else {
                throw JobDecodingError("Celery task '\(task)': 'chord' is not a signature", reason: .unsupported)
            }
            object["chord"] = body
        }
        for key in ["chain", "callbacks", "errbacks"] where CeleryFormat.isPresent(embed[key]) {
            let list = signatures(embed[key])
            for sig in list {
                guard let dict = sig as? [String: Any], let name = dict["task"] as? String, !name.isEmpty else {
                    throw JobDecodingError("Celery task '\(task)': a signature in '\(key)' has no task name", reason: .unsupported)
                }
                if let kind = dict["subtask_type"] as? String {
                    throw JobDecodingError("Celery task '\(task)': '\(key)' holds a \(kind), which Warren does not run (only plain task signatures)", reason: .unsupported)
                }
            }
            object[key] = list
        }
        guard !object.isEmpty else { return nil }
        return CeleryCanvas(json: jsonText(object))
    }

    /// Reads the header; throws ``ItineraryError`` when it is not a canvas.
    public init(header value: FieldValue) throws(ItineraryError) {
        guard let text = value.stringValue,
              (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any]
        else { throw ItineraryError("header '\(WorkflowHeader.celeryCanvas)' is not a JSON object") }
        self.json = text
    }

    init(json: String) { self.json = json }

    /// The header value.
    public var headerValue: FieldValue { .string(json) }

    /// Whether the task is a header task of a chord (its body in `chord`): it needs a job store to record
    /// its result for the chord's unlock.
    public var isChordHeader: Bool { object["chord"] != nil }

    private var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:] }

    /// After task `parent` (headers `headers`, from `queue`) returned `result`: the next chain task and the callbacks.
    public func afterSuccess(result: [UInt8]?, parent: String, headers: FieldTable, queue: String) throws(WarrenError) -> [Message] {
        let value: Any = result.flatMap { try? JSONSerialization.jsonObject(with: Data($0), options: [.fragmentsAllowed]) } ?? NSNull()
        let root = HeaderValues.string(headers["root_id"]) ?? parent
        var out: [Message] = []
        var chain = Self.signatures(object["chain"])
        if let next = chain.popLast() as? [String: Any] {
            out.append(try Self.message(next, prefix: [value], chain: chain, id: "\(parent).next", parent: parent, root: root, queue: queue))
        }
        for (i, sig) in Self.signatures(object["callbacks"]).enumerated() {
            guard let sig = sig as? [String: Any] else { continue }
            out.append(try Self.message(sig, prefix: [value], chain: [], id: "\(parent).link-\(i + 1)", parent: parent, root: root, queue: queue))
        }
        return out
    }

    /// After task `parent` died: the errbacks, each given the task id.
    public func afterDeath(parent: String, headers: FieldTable, queue: String) throws(WarrenError) -> [Message] {
        let root = HeaderValues.string(headers["root_id"]) ?? parent
        var out: [Message] = []
        for (i, sig) in Self.signatures(object["errbacks"]).enumerated() {
            guard let sig = sig as? [String: Any] else { continue }
            out.append(try Self.message(sig, prefix: [parent], chain: [], id: "\(parent).link-error-\(i + 1)", parent: parent, root: root, queue: queue))
        }
        return out
    }

    /// A Celery protocol 2 message for `sig`: args `prefix + sig.args` (just `sig.args` when immutable).
    static func message(_ sig: [String: Any], prefix: [Any], chain: [Any], id fallback: String, parent: String, root: String,
                        queue current: String) throws(WarrenError) -> Message {
        let task = sig["task"] as? String ?? ""
        let options = sig["options"] as? [String: Any] ?? [:]
        let own = sig["args"] as? [Any] ?? []
        let args = (sig["immutable"] as? Bool ?? false) ? own : prefix + own
        let kwargs = sig["kwargs"] as? [String: Any] ?? [:]
        let id = options["task_id"] as? String ?? fallback
        let queue = options["queue"] as? String ?? options["routing_key"] as? String ?? current
        let embed: [String: Any] = ["callbacks": signatures(options["link"]).nilIfEmpty, "errbacks": signatures(options["link_error"]).nilIfEmpty,
                                    "chain": chain.nilIfEmpty, "chord": NSNull()]
        let body = jsonText([args, kwargs, embed])
        let headers: FieldTable = [
            "lang": "py", "task": .string(task), "id": .string(id), "shadow": .void, "eta": .void, "expires": .void,
            "group": .void, "group_index": .void, "retries": .int32(0), "timelimit": .array([.void, .void]),
            "root_id": .string(root), "parent_id": .string(parent), "argsrepr": .string(jsonText(args)),
            "kwargsrepr": .string(jsonText(kwargs)), "origin": "warren",
        ]
        let priority = (options["priority"] as? Int).map { UInt8(clamping: $0) }
        let properties = BasicProperties(contentType: "application/json", contentEncoding: "utf-8", headers: headers,
                                         persistent: true, priority: priority, correlationID: id)
        guard !task.isEmpty else { throw WarrenError(.invalidInput, "a Celery signature has no task name") }
        return Message(id: id, queue: queue, message: OutgoingMessage(exchange: "", routingKey: queue, mandatory: true,
                                                                      properties: properties, body: Array(body.utf8)))
    }

    /// A signature list: Celery sends a list, or a single signature.
    static func signatures(_ value: Any?) -> [Any] {
        if let list = value as? [Any] { return list }
        if let one = value as? [String: Any] { return [one] }
        return []
    }

    static func jsonText(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension Array {
    /// `nil` (JSON null) for an empty list.
    fileprivate var nilIfEmpty: Any { isEmpty ? NSNull() : self }
}
