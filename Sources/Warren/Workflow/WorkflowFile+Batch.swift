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

    /// The `batch:` mapping: `children` (jobs), `on_success` / `on_complete` / `on_death`, `id`, `queue`.
    static func parseBatch(_ node: Node, _ file: String) throws(WorkflowFileError) -> WorkflowBatch {
        let fields = try mapping(node, "the batch", file, allowed: batchKeys)
        guard let childrenNode = fields["children"], case .sequence(let items) = childrenNode else {
            throw WorkflowFileError(file, node.mark?.line, "a batch needs \"children\", a list of jobs")
        }
        var children: [WorkflowJob] = []
        for item in items { children.append(try job(item, file)) }
        var callbacks: [BatchCallback: WorkflowJob] = [:]
        for (key, kind) in callbackKeys {
            if let n = fields[key] { callbacks[kind] = try job(n, file) }
        }
        let batch = WorkflowBatch(id: try fields["id"].map { (n) throws(WorkflowFileError) in try string(n, "id", file) },
                                  children: children, callbacks: callbacks,
                                  queue: try fields["queue"].map { (n) throws(WorkflowFileError) in try string(n, "queue", file) } ?? "default")
        do throws(WarrenError) { try batch.validate() } catch { throw WorkflowFileError(file, nil, error.message) }
        return batch
    }
}
