import Foundation
import Warren

/// A workflow drawn as inline SVG (no script, nothing fetched): the nodes and edges of
/// ``WorkflowGraph/layout(_:)`` placed on a grid, each node coloured by its job's state through a CSS class.
/// Steps go left to right, a group's children one under another; compensations and the on-failure job sit
/// in a band below, with dashed edges. Only positions are computed here; the graph is the library's.
struct WorkflowDiagram {
    static let nodeWidth = 200, nodeHeight = 48, columnGap = 50, rowGap = 22, margin = 12

    struct Box {
        var name, label, jobID, state: String
        var x, y: Int
        var dashed: Bool
    }

    struct Line {
        var x1, y1, x2, y2: Int
        var dashed: Bool
    }

    var boxes: [Box] = []
    var lines: [Line] = []
    var width = 0, height = 0

    /// The diagram of `workflow` with `states` by job id (jobs without one are `pending`).
    init(_ workflow: Workflow, states: [String: WorkflowGraph.State]) {
        let (nodes, edges) = WorkflowGraph.layout(workflow)
        let mainRows = max(1, workflow.steps.map { $0.isGroup ? $0.jobs.count : 1 }.max() ?? 1)
        let firstUndo = nodes.filter { $0.name.hasPrefix("u") }.map { Self.cell($0.name, steps: 0, mainRows: mainRows, firstUndo: nil).0 }.min()
        let step = Self.nodeWidth + Self.columnGap, rowStep = Self.nodeHeight + Self.rowGap
        var centre: [String: (x: Int, y: Int)] = [:]
        for node in nodes {
            let (column, row) = Self.cell(node.name, steps: workflow.steps.count, mainRows: mainRows, firstUndo: firstUndo)
            let x = Self.margin + column * step, y = Self.margin + row * rowStep + (row >= mainRows ? Self.rowGap : 0)
            boxes.append(Box(name: node.name, label: node.label, jobID: node.jobID,
                             state: (states[node.jobID] ?? .pending).rawValue, x: x, y: y, dashed: node.onFailurePath))
            centre[node.name] = (x + Self.nodeWidth / 2, y + Self.nodeHeight / 2)
        }
        for (from, to, dashed) in edges {
            guard let a = centre[from], let b = centre[to] else { continue }
            lines.append(Self.connect(a, b, dashed: dashed))
        }
        width = max((boxes.map(\.x).max() ?? 0) + Self.nodeWidth + Self.margin, 200)
        height = (boxes.map(\.y).max() ?? 0) + Self.nodeHeight + Self.margin
    }

    /// Grid cell of a node by its graph name: `s3` (step 3), `s3_2` (its second child), `u3` (its
    /// compensation, below it), `j3` (the wait for group step 3 when steps follow it: below the group; a
    /// chain's groups have no compensations), `f` (the on-failure job: below the first compensation, which
    /// leads to it, or after the last step when there is none).
    static func cell(_ name: String, steps: Int, mainRows: Int, firstUndo: Int?) -> (Int, Int) {
        let body = name.dropFirst()
        let parts = body.split(separator: "_").compactMap { Int($0) }
        switch name.first {
        case "s": return (max(0, (parts.first ?? 1) - 1), parts.count > 1 ? parts[1] - 1 : 0)
        case "u", "j": return (max(0, (parts.first ?? 1) - 1), mainRows)
        default: return firstUndo.map { ($0, mainRows + 1) } ?? (steps, mainRows)
        }
    }

    /// A line between the borders of two boxes centred at `a` and `b` (side to side when they are in
    /// different columns, top to bottom otherwise).
    static func connect(_ a: (x: Int, y: Int), _ b: (x: Int, y: Int), dashed: Bool) -> Line {
        let hw = nodeWidth / 2, hh = nodeHeight / 2
        if a.x == b.x {
            let down = b.y > a.y
            return Line(x1: a.x, y1: a.y + (down ? hh : -hh), x2: b.x, y2: b.y + (down ? -hh : hh), dashed: dashed)
        }
        let right = b.x > a.x
        return Line(x1: a.x + (right ? hw : -hw), y1: a.y, x2: b.x + (right ? -hw : hw), y2: b.y, dashed: dashed)
    }

    /// The template context: `width`, `height`, `boxes`, `lines`, `legend`.
    func context(base: String) -> [String: Any] {
        [
            "width": width, "height": height,
            "boxes": boxes.map { b -> [String: Any] in
                ["label": Self.fit(b.label, 22), "detail": Self.fit("\(b.jobID) · \(b.state)", 29), "fullID": b.jobID, "state": b.state,
                 "href": "\(base)/jobs/show?id=\(b.jobID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
                 "x": b.x, "y": b.y, "w": Self.nodeWidth, "h": Self.nodeHeight, "tx": b.x + 10, "ty1": b.y + 20, "ty2": b.y + 38,
                 "dashed": b.dashed]
            },
            "lines": lines.map { ["x1": $0.x1, "y1": $0.y1, "x2": $0.x2, "y2": $0.y2, "dashed": $0.dashed] as [String: Any] },
            "legend": WorkflowGraph.State.allCases.map(\.rawValue),
        ]
    }

    /// `text` cut to `n` characters with an ellipsis (the full text is in the node's tooltip).
    static func fit(_ text: String, _ n: Int) -> String { text.count <= n ? text : String(text.prefix(n - 1)) + "…" }
}
