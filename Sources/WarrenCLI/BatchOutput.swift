import Foundation
import Warren

/// How `warren workflow show` prints a batch (``BatchReport``): text, JSON or a graph. Printing only.
enum BatchOutput {
    static func print(_ report: BatchReport, graph: WorkflowGraph.Format?, json: Bool) throws {
        if let graph {
            Swift.print(WorkflowGraph.render(report, format: graph), terminator: "")
        } else if json {
            try WorkflowCommand.printJSON(["batch": try object(report.view), "children": try report.children.children.map(object),
                                           "nextChildren": report.children.next ?? NSNull(),
                                           "callbackJobs": try report.callbackJobs.values.sorted { $0.id < $1.id }.map(object)])
        } else {
            summary(report.view)
            for c in report.view.callbacks {
                let job = report.callbackJobs[c.jobID].map { " (job \($0.state.rawValue))" } ?? ""
                Swift.print("  \(c.kind.rawValue)\t\(c.job)\t\(c.jobID)\t\(c.state.rawValue)\(job)")
            }
            let more = report.children.next.map { _ in " (first \(report.children.children.count) of \(report.view.total))" } ?? ""
            Swift.print("children\(more):")
            for child in report.children.children {
                let error = child.job?.lastError.map { "  \($0.prefix(80))" } ?? ""
                Swift.print("  \(child.id)\t\(child.job?.name ?? "?")\t\(child.outcome?.rawValue ?? "pending")\(error)")
            }
        }
    }

    /// One line of counts, then the parent and times.
    static func summary(_ b: BatchView) {
        Swift.print("batch \(b.id) (\(b.state.rawValue)\(b.sealed ? "" : ", not sealed")): \(b.finished)/\(b.total) finished, "
                    + "\(b.pending) pending, \(b.succeeded) succeeded, \(b.dead) dead")
        if let parent = b.parentBatch {
            Swift.print("  parent batch \(parent) (as child \(b.parentChild ?? "?")), \(b.parentNotified ? "told" : "not told yet")")
        }
        let times = [("created", b.createdAt), ("finished", b.finishedAt)].compactMap { k, d in d.map { "\(k) \(ISO8601DateFormatter().string(from: $0))" } }
        if !times.isEmpty { Swift.print("  " + times.joined(separator: ", ")) }
    }

    /// Any encodable as a JSON object for ``WorkflowCommand/printJSON(_:)`` (times ISO 8601).
    static func object(_ value: some Encodable) throws -> Any {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try JSONSerialization.jsonObject(with: encoder.encode(value))
    }
}
