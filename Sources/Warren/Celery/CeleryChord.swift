import Foundation

/// A Celery chord as its `celery.chord_unlock` task describes it, and the decision the unlock takes on
/// each poll, as pure functions (``CeleryChordTests``).
///
/// Celery 5 sends a chord whose result backend has no native join (database, filesystem, ...) as its
/// header tasks (headers `group`, `group_index`, the body in `embed.chord`) plus one
/// `celery.chord_unlock` task, sent to the body's queue with a 1 s countdown, whose args are
/// `[group_id, body signature]` and kwargs `{"interval", "max_retries", "result": [[[header task id,
/// parent], null], ...]}` (the header tasks in order). A Swift worker with a job store runs the header
/// tasks as jobs (the store records each one's state and result under its Celery id) and the unlock as
/// ``CeleryChordUnlock``, which reads those states and decides here.
public struct CeleryChord: Sendable, Hashable {
    /// The chord's group id.
    public var groupID: String
    /// The header task ids, in header order (the order of the body's list of results).
    public var headerTaskIDs: [String]
    /// The body signature, as JSON text.
    public var body: String
    /// The body's task name.
    public var bodyTask: String
    /// The body's task id: its frozen `options.task_id` (Celery freezes it), else `<group id>.body`.
    public var bodyID: String
    /// How long between polls: the unlock's `interval` (Celery's default 1 s).
    public var interval: Duration
    /// Polls after the first before the chord gives up: the unlock's `max_retries`, else
    /// ``defaultMaxRetries`` (Celery's own default waits forever; Warren never does).
    public var maxRetries: Int

    /// Polls allowed when the unlock's `max_retries` is null: 3,600 (an hour at the default 1 s interval).
    public static let defaultMaxRetries = 3_600
    /// The interval when the unlock's `interval` is null: 1 s, Celery's `result_chord_retry_interval`.
    public static let defaultInterval: Duration = .seconds(1)

    /// Reads the unlock's arguments as a worker gives them to the job: a JSON object with the positional
    /// args named `group_id` and `callback` and the kwargs. Throws ``ArgumentsError`` naming what is wrong.
    public init(unlockArguments json: [UInt8]) throws(ArgumentsError) {
        let bad = { (what: String) in ArgumentsError(reason: .invalidArguments, message: "celery.chord_unlock: \(what)") }
        guard let args = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else { throw bad("arguments are not a JSON object") }
        guard let group = args["group_id"] as? String, !group.isEmpty else { throw bad("'group_id' (args[0]) is missing") }
        guard let body = args["callback"] as? [String: Any], let task = body["task"] as? String, !task.isEmpty else {
            throw bad("'callback' (args[1], the chord's body) is not a task signature")
        }
        if let kind = body["subtask_type"] as? String {
            throw ArgumentsError(reason: .unsupported, message: "celery.chord_unlock of chord \(group): the body is a \(kind), "
                                 + "which Warren does not run as a chord body (only a plain task signature)")
        }
        guard let results = args["result"] as? [Any] else { throw bad("'result' (the header task ids) is missing") }
        var ids: [String] = []
        for (i, r) in results.enumerated() {
            // Celery's AsyncResult.as_tuple(): ((id, parent), None).
            guard let id = ((r as? [Any])?.first as? [Any])?.first as? String, !id.isEmpty else {
                throw bad("result[\(i)] is not a task result tuple ((id, parent), None)")
            }
            ids.append(id)
        }
        let seconds = Self.number(args["interval"])
        self.groupID = group
        self.headerTaskIDs = ids
        self.body = CeleryCanvas.jsonText(body)
        self.bodyTask = task
        self.bodyID = ((body["options"] as? [String: Any])?["task_id"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "\(group).body"
        self.interval = seconds.map { .milliseconds(Int64(max(0.01, $0) * 1000)) } ?? Self.defaultInterval
        self.maxRetries = Self.number(args["max_retries"]).map { Int(min(max(0, $0), 1_000_000_000)) } ?? Self.defaultMaxRetries
    }

    /// What the unlock does on one poll.
    public enum Decision: Sendable, Hashable {
        /// Every header task succeeded: publish the body with these results (JSON texts, `null` for a task
        /// that returned nothing), in header order.
        case ready(results: [String])
        /// Some header tasks have not finished: poll again after the interval.
        case wait(pending: [String])
        /// Header tasks died (or their result was not kept): the body never runs; its `link_error`
        /// signatures run instead, or the unlock is dead-lettered with `why`.
        case failed(dead: [String], why: String)
        /// Still not finished after `maxRetries` polls: failed as above.
        case gaveUp(pending: [String], why: String)
    }

    /// The decision after `retries` polls (the unlock's attempt - 1), given the store's statuses of
    /// ``headerTaskIDs`` (same order).
    public func decide(_ statuses: [JobStatus], retries: Int) -> Decision {
        var dead: [String] = [], notes: [String] = [], pending: [String] = [], results: [String] = []
        for s in statuses {
            switch s.state {
            case .dead:
                dead.append(s.id)
                notes.append("\(s.id) dead (\(s.deadReason ?? "?"): \(s.lastError ?? "no error recorded"))")
            case .succeeded where s.result.map(JobTracker.isOmittedResult) == true:
                dead.append(s.id)
                notes.append("\(s.id) succeeded but its result was not kept by the store (over its limit)")
            case .succeeded:
                results.append(s.result ?? "null")
            default:
                pending.append(s.id)
            }
        }
        let chord = "Celery chord \(groupID) (body \(bodyTask), id \(bodyID))"
        if !dead.isEmpty {
            return .failed(dead: dead, why: "\(chord) failed: header task(s) \(notes.joined(separator: "; ")); the body does not run")
        }
        if pending.isEmpty { return .ready(results: results) }
        if retries >= maxRetries {
            return .gaveUp(pending: pending, why: "\(chord) gave up after \(retries) polls (max_retries \(maxRetries)): "
                           + "header task(s) \(pending.joined(separator: ", ")) not finished; the body does not run")
        }
        return .wait(pending: pending)
    }

    /// A JSON number (`nil` for null or anything else).
    private static func number(_ value: Any?) -> Double? {
        if let i = value as? Int { return Double(i) }
        if let d = value as? Double { return d }
        return nil
    }

    /// The body signature as a JSON object (``body`` is its text, kept so the chord stays `Sendable`).
    var bodySignature: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    /// The body's args prefix: the list of header results (`[r1, r2, ...]`), as Celery's `callback.delay(results)`.
    static func resultList(_ results: [String]) -> [Any] {
        [results.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8), options: [.fragmentsAllowed])) ?? NSNull() }]
    }
}
