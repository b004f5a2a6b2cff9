import Foundation
import Yams

/// Reads a workflow definition from YAML or JSON (JSON is YAML):
///
/// ```yaml
/// kind: saga              # chain (default) or saga
/// id: order-1042          # optional; default a new UUID
/// queue: orders           # queue of jobs that name none; default "default"
/// steps:
///   - job: reserve-stock
///     args: {order: 1042}
///     compensate: {job: release-stock, args: {order: 1042}}
///   - job: charge-card
///     queue: payments
///     attempts: 3
///   - group:              # fan-out; followed by more steps it is a batch (needs a job store)
///       - job: send-email
///       - job: update-crm
///   - job: close-order    # after every job of the group succeeded
/// on_failure: {job: alert-ops}
/// ```
///
/// or a batch (fan-in, needs a job store; ``WorkflowBatch``):
///
/// ```yaml
/// batch:
///   id: album-7           # optional; default a new UUID
///   queue: images
///   children:
///     - {job: resize, args: {image: 1}}
///     - {job: resize, args: {image: 2}}
///     - batch:            # nested: its id is its child id here (album-7.3)
///         children: [{job: thumbnail}]
///   on_success: {job: publish-album}
///   on_complete: {job: notify}
///   on_death: {job: alert-ops}
/// ```
public enum WorkflowFile {
    static let workflowKeys: Set<String> = ["kind", "id", "queue", "steps", "on_failure", "batch"]
    static let jobKeys: Set<String> = ["job", "args", "queue", "attempts", "compensate"]

    /// Parses `text` (named `file` in errors) into a validated workflow; a batch file is an error.
    public static func parse(_ text: String, file: String = "workflow") throws(WorkflowFileError) -> Workflow {
        switch try read(text, file: file) {
        case .workflow(let workflow): return workflow
        case .batch: throw WorkflowFileError(file, nil, "the file defines a batch, not a chain or saga")
        }
    }

    /// Parses `text` (named `file` in errors) into a validated workflow or batch (``WorkflowFile/Definition``).
    public static func read(_ text: String, file: String = "workflow") throws(WorkflowFileError) -> Definition {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw WorkflowFileError(file, nil, "the file is empty") }
            root = node
        } catch let error as WorkflowFileError {
            throw error
        } catch {
            throw WorkflowFileError(file, nil, "not YAML or JSON: \(error)")
        }
        let top = try mapping(root, "the file", file)
        if let batch = top["batch"] {
            guard top.count == 1 else { throw WorkflowFileError(file, root.mark?.line, "a batch file is {batch: {...}} and nothing else") }
            return .batch(try parseBatch(batch, file))
        }
        let kind: Itinerary.Kind
        switch try top["kind"].map({ (n) throws(WorkflowFileError) in try string(n, "kind", file) }) ?? "chain" {
        case "chain": kind = .chain
        case "saga": kind = .saga
        case let other: throw WorkflowFileError(file, top["kind"]?.mark?.line, "kind must be chain or saga, not \"\(other)\"")
        }
        guard let stepsNode = top["steps"], case .sequence(let items) = stepsNode else {
            throw WorkflowFileError(file, root.mark?.line, "needs \"steps\", a list")
        }
        var steps: [WorkflowStep] = []
        for item in items {
            let fields = try mapping(item, "a step", file)
            if let group = fields["group"] {
                guard fields.count == 1, case .sequence(let members) = group else {
                    throw WorkflowFileError(file, item.mark?.line, "a group step is {group: [jobs]} and nothing else")
                }
                var jobs: [WorkflowStep] = []
                for member in members { jobs.append(.job(try job(member, file))) }
                steps.append(.group(jobs))
            } else {
                steps.append(.job(try job(item, file), compensation: try fields["compensate"].map { (n) throws(WorkflowFileError) in try job(n, file) }))
            }
        }
        let workflow = Workflow(id: try top["id"].map { (n) throws(WorkflowFileError) in try string(n, "id", file) }, kind: kind, steps: steps,
                                onFailure: try top["on_failure"].map { (n) throws(WorkflowFileError) in try job(n, file) },
                                queue: try top["queue"].map { (n) throws(WorkflowFileError) in try string(n, "queue", file) } ?? "default")
        do throws(WarrenError) { try workflow.validate() } catch { throw WorkflowFileError(file, nil, error.message) }
        return .workflow(workflow)
    }

    static func job(_ node: Node, _ file: String) throws(WorkflowFileError) -> WorkflowJob {
        let fields = try mapping(node, "a job", file)
        guard let nameNode = fields["job"] else { throw WorkflowFileError(file, node.mark?.line, "a job needs \"job\" (its name)") }
        var job = WorkflowJob(name: try string(nameNode, "job", file))
        if let args = fields["args"] {
            guard args.mapping != nil || args.sequence != nil else {
                throw WorkflowFileError(file, args.mark?.line, "args must be a mapping or a list")
            }
            do throws(ScheduleError) { job.arguments = try JSONText.from(args) } catch {
                throw WorkflowFileError(file, args.mark?.line, error.message)
            }
        }
        job.queue = try fields["queue"].map { (n) throws(WorkflowFileError) in try string(n, "queue", file) }
        if let attempts = fields["attempts"] {
            guard let n = attempts.int, n >= 1 else { throw WorkflowFileError(file, attempts.mark?.line, "attempts must be an integer >= 1") }
            job.maxAttempts = n
        }
        return job
    }

    /// A mapping's entries by key; unknown or repeated keys are errors.
    static func mapping(_ node: Node, _ what: String, _ file: String, allowed: Set<String>? = nil) throws(WorkflowFileError) -> [String: Node] {
        guard case .mapping(let m) = node else { throw WorkflowFileError(file, node.mark?.line, "\(what) must be a mapping") }
        let allowed = allowed ?? (what == "the file" ? workflowKeys : jobKeys.union(["group"]))
        var out: [String: Node] = [:]
        for (key, value) in m {
            guard let k = key.string, allowed.contains(k) else {
                throw WorkflowFileError(file, key.mark?.line, "unknown key \"\(key.string ?? "?")\" in \(what) (expected \(allowed.sorted().joined(separator: ", ")))")
            }
            guard out[k] == nil else { throw WorkflowFileError(file, key.mark?.line, "key \"\(k)\" is given twice") }
            out[k] = value
        }
        return out
    }

    static func string(_ node: Node, _ key: String, _ file: String) throws(WorkflowFileError) -> String {
        guard case .scalar(let s) = node, !s.string.isEmpty else {
            throw WorkflowFileError(file, node.mark?.line, "\(key) must be a non-empty string")
        }
        return s.string
    }
}

/// A workflow file that cannot be read: where and why.
public struct WorkflowFileError: Error, Sendable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// The 1-based line, when known.
    public var line: Int?
    /// What is wrong.
    public var message: String

    init(_ file: String, _ line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}
