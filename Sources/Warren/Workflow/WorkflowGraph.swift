/// Draws a workflow as a Mermaid flowchart or a Graphviz dot graph, each job a node named by its job id's
/// step (`s2`, `s3_1` for a group's first child, `u2` for the compensation of step 2, `f` for the
/// on-failure job), optionally coloured by state. Pure text: `warren workflow graph` prints it.
public enum WorkflowGraph {
    /// Output syntax.
    public enum Format: String, Sendable, CaseIterable {
        /// Mermaid `flowchart LR` (renders in GitHub Markdown).
        case mermaid
        /// Graphviz dot (`dot -Tpng`).
        case dot
    }

    /// A job's state, for colouring.
    public enum State: String, Sendable, CaseIterable {
        case pending, running, succeeded, retrying, dead

        /// How a job store's state is drawn: not yet run is pending, lost (its worker died) is dead until
        /// the broker redelivers it.
        public init(_ state: JobState) {
            switch state {
            case .unknown, .enqueued, .scheduled: self = .pending
            case .running: self = .running
            case .retrying: self = .retrying
            case .succeeded: self = .succeeded
            case .dead, .lost: self = .dead
            }
        }

        var colour: String {
            switch self {
            case .pending: "#eeeeee"
            case .running: "#bbdefb"
            case .succeeded: "#c8e6c9"
            case .retrying: "#fff9c4"
            case .dead: "#ffcdd2"
            }
        }
    }

    /// One node: its graph name, its label and the job id it stands for.
    public struct Node: Sendable, Hashable {
        public var name: String
        public var label: String
        public var jobID: String
        /// Drawn dashed: a compensation or the on-failure job, which run only when a step dies.
        public var onFailurePath: Bool
    }

    /// The nodes and edges of `workflow` (edges: from, to, dashed).
    public static func layout(_ workflow: Workflow) -> (nodes: [Node], edges: [(String, String, Bool)]) {
        var nodes: [Node] = []
        var edges: [(String, String, Bool)] = []
        var previous: [String] = []
        var undo: [String] = []
        for (index, step) in workflow.steps.enumerated() {
            let k = index + 1
            let names = step.isGroup ? step.jobs.indices.map { "s\(k)_\($0 + 1)" } : ["s\(k)"]
            for (j, job) in step.jobs.enumerated() {
                let id = step.isGroup ? "\(workflow.id).\(k).\(j + 1)" : "\(workflow.id).\(k)"
                nodes.append(Node(name: names[j], label: job.name, jobID: id, onFailurePath: false))
            }
            for from in previous { for to in names { edges.append((from, to, false)) } }
            previous = names
            if step.isGroup, k < workflow.steps.count {  // fan-in: a batch whose success runs the next step
                nodes.append(Node(name: "j\(k)", label: "wait for all \(step.jobs.count) (batch)", jobID: "\(workflow.id).\(k)",
                                  onFailurePath: false))
                for from in names { edges.append((from, "j\(k)", false)) }
                previous = ["j\(k)"]
            }
            if let c = step.compensation {
                nodes.append(Node(name: "u\(k)", label: "undo: \(c.name)", jobID: "\(workflow.id).undo-\(k)", onFailurePath: true))
                edges.append(("s\(k)", "u\(k)", true))
                undo.append("u\(k)")
            }
        }
        for (later, earlier) in zip(undo.reversed(), undo.reversed().dropFirst()) { edges.append((later, earlier, true)) }
        if let f = workflow.onFailure {
            nodes.append(Node(name: "f", label: "on failure: \(f.name)", jobID: "\(workflow.id).on-failure", onFailurePath: true))
            if let first = undo.first {
                edges.append((first, "f", true))
            } else {
                for node in nodes where !node.onFailurePath && !node.name.hasPrefix("j") { edges.append((node.name, "f", true)) }
            }
        }
        return (nodes, edges)
    }

    /// The graph text; `states` colours nodes by job id.
    public static func render(_ workflow: Workflow, format: Format, states: [String: State] = [:]) -> String {
        let (nodes, edges) = layout(workflow)
        return render(title: workflow.id, nodes: nodes, edges: edges, format: format, states: states)
    }

    static func render(title: String, nodes: [Node], edges: [(String, String, Bool)], format: Format, states: [String: State]) -> String {
        switch format {
        case .mermaid:
            var lines = ["flowchart LR"]
            for n in nodes {
                lines.append(n.onFailurePath ? "  \(n.name)([\"\(escape(n.label))\"])" : "  \(n.name)[\"\(escape(n.label))\"]")
            }
            for (from, to, dashed) in edges { lines.append("  \(from) \(dashed ? "-.->" : "-->") \(to)") }
            let used = State.allCases.filter { s in nodes.contains { states[$0.jobID] == s } }
            for s in used {
                lines.append("  classDef \(s.rawValue) fill:\(s.colour)")
                lines.append("  class \(nodes.filter { states[$0.jobID] == s }.map(\.name).joined(separator: ",")) \(s.rawValue)")
            }
            return lines.joined(separator: "\n") + "\n"
        case .dot:
            var lines = ["digraph \"\(escape(title))\" {", "  rankdir=LR;",
                         "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];"]
            for n in nodes {
                var attributes = ["label=\"\(escape(n.label))\""]
                if n.onFailurePath { attributes.append("style=\"rounded,dashed,filled\"") }
                if let s = states[n.jobID] { attributes.append("fillcolor=\"\(s.colour)\"") }
                lines.append("  \(n.name) [\(attributes.joined(separator: ", "))];")
            }
            for (from, to, dashed) in edges { lines.append("  \(from) -> \(to)\(dashed ? " [style=dashed]" : "");") }
            lines.append("}")
            return lines.joined(separator: "\n") + "\n"
        }
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "'")
    }
}
