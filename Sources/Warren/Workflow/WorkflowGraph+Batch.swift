extension WorkflowGraph {
    /// Children drawn one by one up to this many; a larger batch shows the first ones and a node counting
    /// the rest.
    static let drawnChildren = 12

    /// The nodes and edges of `batch`: its children (`c1`...), a fan-in node `join`, then the callbacks
    /// (`success`, `complete`; `death` dashed, reached from the children directly).
    public static func layout(_ batch: WorkflowBatch) -> (nodes: [Node], edges: [(String, String, Bool)]) {
        var nodes: [Node] = []
        var edges: [(String, String, Bool)] = []
        let ids = batch.childIDs
        for (k, job) in batch.children.prefix(drawnChildren).enumerated() {
            nodes.append(Node(name: "c\(k + 1)", label: job.name, jobID: ids[k], onFailurePath: false))
        }
        if batch.children.count > drawnChildren {
            nodes.append(Node(name: "more", label: "... \(batch.children.count - drawnChildren) more children", jobID: "",
                              onFailurePath: false))
        }
        for (k, inner) in batch.nested.enumerated() {
            nodes.append(Node(name: "n\(k + 1)", label: "batch \(inner.id): \(inner.childIDs.count) children", jobID: inner.id,
                              onFailurePath: false))
        }
        let children = nodes.map(\.name)
        nodes.append(Node(name: "join", label: "batch \(batch.id): \(batch.children.count) children", jobID: batch.id, onFailurePath: false))
        for c in children { edges.append((c, "join", false)) }
        for kind in BatchCallback.allCases {
            guard let job = batch.callbacks[kind] else { continue }
            let death = kind == .death
            nodes.append(Node(name: kind.rawValue, label: "\(kind.rawValue): \(job.name)", jobID: FanIn.callbackID(kind, of: batch.id),
                              onFailurePath: death))
            if death {
                for c in children { edges.append((c, kind.rawValue, true)) }
            } else {
                edges.append(("join", kind.rawValue, false))
            }
        }
        return (nodes, edges)
    }

    /// The graph text of `batch`; `states` colours nodes by job id.
    public static func render(_ batch: WorkflowBatch, format: Format, states: [String: State] = [:]) -> String {
        let (nodes, edges) = layout(batch)
        return render(title: batch.id, nodes: nodes, edges: edges, format: format, states: states)
    }
}
