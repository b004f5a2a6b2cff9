import Yams

extension WorkflowFile {
    /// What a workflow file defines.
    public enum Definition: Sendable, Hashable {
        /// A chain or saga (maybe ending in a group).
        case workflow(Workflow)
        /// A batch with callbacks (needs a job store).
        case batch(WorkflowBatch)
    }

    static let batchKeys: Set<String> = ["id", "queue", "children", "on_success", "on_complete", "on_death"]
    static let callbackKeys: [(String, BatchCallback)] = [("on_success", .success), ("on_complete", .complete), ("on_death", .death)]

    /// The `batch:` mapping: `children` (jobs, and nested batches as `{batch: {...}}`), `on_success` /
    /// `on_complete` / `on_death`, `id`, `queue`. A nested batch's id is its child id in its parent; its
    /// queue is its parent's unless it names one.
    static func parseBatch(_ node: Node, _ file: String, depth: Int = 0, queue parentQueue: String = "default") throws(WorkflowFileError) -> WorkflowBatch {
        let fields = try mapping(node, "the batch", file, allowed: batchKeys)
        guard let childrenNode = fields["children"], case .sequence(let items) = childrenNode else {
            throw WorkflowFileError(file, node.mark?.line, "a batch needs \"children\", a list of jobs")
        }
        guard depth < WorkflowBatch.maxDepth else {
            throw WorkflowFileError(file, node.mark?.line, "batches nest at most \(WorkflowBatch.maxDepth) deep")
        }
        let queue = try fields["queue"].map { (n) throws(WorkflowFileError) in try string(n, "queue", file) } ?? parentQueue
        var children: [WorkflowJob] = []
        var nested: [WorkflowBatch] = []
        for item in items {
            if let inner = item.mapping?[String("batch")] {
                guard item.mapping?.count == 1 else { throw WorkflowFileError(file, item.mark?.line, "a nested batch is {batch: {...}} and nothing else") }
                nested.append(try parseBatch(inner, file, depth: depth + 1, queue: queue))
            } else {
                children.append(try job(item, file))
            }
        }
        var callbacks: [BatchCallback: WorkflowJob] = [:]
        for (key, kind) in callbackKeys {
            if let n = fields[key] { callbacks[kind] = try job(n, file) }
        }
        let batch = WorkflowBatch(id: try fields["id"].map { (n) throws(WorkflowFileError) in try string(n, "id", file) },
                                  children: children, batches: nested, callbacks: callbacks,
                                  queue: queue)
        if depth == 0 {
            do throws(WarrenError) { try batch.validate() } catch { throw WorkflowFileError(file, nil, error.message) }
        }
        return batch
    }
}
