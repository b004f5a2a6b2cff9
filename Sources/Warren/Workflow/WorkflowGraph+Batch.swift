extension WorkflowGraph {
    /// Children drawn one by one up to this many; a larger batch shows the first ones and a node counting
    /// the rest.
    static let drawnChildren = 12

    /// The nodes and edges of `batch`: its children (`c1`...), a fan-in node `join`, then the callbacks
    /// (`success`, `complete`; `death` dashed, reached from the children directly).
    public static func layout(_ batch: WorkflowBatch) -> (nodes: [Node], edges: [(String, String, Bool)]) {
        let drawn = zip(batch.children, batch.childIDs).prefix(drawnChildren).map { (label: $0.name, jobID: $1) }
        let nested = batch.nested.map { (label: "batch \($0.id): \($0.childIDs.count) children", jobID: $0.id) }
        return layout(batch: batch.id, children: Array(drawn), total: batch.children.count, nested: nested,
                      callbacks: batch.callbacks)
    }

    /// The nodes and edges of batch `id` with `children` drawn (at most ``drawnChildren``) of `total`, then
    /// its `nested` batches.
    static func layout(batch id: String, children drawn: [(label: String, jobID: String)], total: Int,
                       nested: [(label: String, jobID: String)] = [],
                       callbacks: [BatchCallback: WorkflowJob]) -> (nodes: [Node], edges: [(String, String, Bool)]) {
        var nodes: [Node] = []
        var edges: [(String, String, Bool)] = []
        for (k, child) in drawn.prefix(drawnChildren).enumerated() {
            nodes.append(Node(name: "c\(k + 1)", label: child.label, jobID: child.jobID, onFailurePath: false))
        }
        if total > nodes.count {
            nodes.append(Node(name: "more", label: "... \(total - nodes.count) more children", jobID: "", onFailurePath: false))
        }
        for (k, inner) in nested.enumerated() {
            nodes.append(Node(name: "n\(k + 1)", label: inner.label, jobID: inner.jobID, onFailurePath: false))
        }
        let children = nodes.map(\.name)
        nodes.append(Node(name: "join", label: "batch \(id): \(total) children", jobID: id, onFailurePath: false))
        for c in children { edges.append((c, "join", false)) }
        for kind in BatchCallback.allCases {
            guard let job = callbacks[kind] else { continue }
            let death = kind == .death
            nodes.append(Node(name: kind.rawValue, label: "\(kind.rawValue): \(job.name)", jobID: FanIn.callbackID(kind, of: id),
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
