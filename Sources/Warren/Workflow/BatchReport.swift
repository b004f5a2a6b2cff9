import Foundation

/// A batch as `warren workflow show` and the dashboard show it: its ``BatchView``, one page of its children
/// (with their jobs) and its callbacks' jobs as the store recorded them; drawn with
/// ``WorkflowGraph/render(_:format:)``, coloured by state.
public struct BatchReport: Sendable {
    /// The batch.
    public var view: BatchView
    /// A page of its children.
    public var children: BatchChildrenPage
    /// The callbacks' jobs the store recorded (a callback enqueued but not run yet has none), by job id.
    public var callbackJobs: [String: JobStatus]

    /// Reads batch `id` and the page of its children after `after` (at most `limit`) from `store`; `nil` when
    /// the store has no such batch. Throws ``StoreError/Code/notConfigured`` when it keeps no batches.
    public static func read(_ id: String, from store: any JobStore, after: String? = nil, limit: Int = 50) async throws(StoreError) -> BatchReport? {
        guard let catalog = store.batchCatalog else { throw StoreError.notConfigured("reading a batch") }
        let view = try await catalog.view(id)
        guard view.state != .unknown else { return nil }
        let children = try await BatchChildrenPage.read(id, after: after, limit: limit, from: catalog)
        var jobs: [String: JobStatus] = [:]
        for callback in view.callbacks where callback.state == .enqueued {
            let s = try await store.status(callback.jobID)
            if s.state != .unknown { jobs[s.id] = s }
        }
        return BatchReport(view: view, children: children, callbackJobs: jobs)
    }

    /// How a child is drawn: its job's state when recorded, else its outcome, else pending.
    public static func state(of child: BatchChild) -> WorkflowGraph.State {
        if let job = child.job { return WorkflowGraph.State(job.state) }
        switch child.outcome {
        case .succeeded?: return .succeeded
        case .dead?: return .dead
        case nil: return .pending
        }
    }

    /// Each node's state by job id: children as ``state(of:)``; the batch by where it is (complete:
    /// succeeded, or dead when a child died); callbacks by their job, else pending.
    public var graphStates: [String: WorkflowGraph.State] {
        var out = Dictionary(children.children.map { ($0.id, Self.state(of: $0)) }, uniquingKeysWith: { a, _ in a })
        switch view.state {
        case .complete: out[view.id] = view.dead > 0 ? .dead : .succeeded
        case .running: out[view.id] = .running
        case .open, .unknown: out[view.id] = .pending
        }
        for callback in view.callbacks { out[callback.jobID] = callbackJobs[callback.jobID].map { WorkflowGraph.State($0.state) } ?? .pending }
        return out
    }
}

extension WorkflowGraph {
    /// The nodes and edges of a batch report, as ``layout(_:)-(WorkflowBatch)`` draws a batch: the first
    /// children of its page (by job name when recorded, else by id), a node counting the rest, the callbacks.
    public static func layout(_ report: BatchReport) -> (nodes: [Node], edges: [(String, String, Bool)]) {
        let drawn = report.children.children.prefix(drawnChildren).map { (label: $0.job?.name ?? $0.id, jobID: $0.id) }
        var callbacks: [BatchCallback: WorkflowJob] = [:]
        for c in report.view.callbacks { callbacks[c.kind] = WorkflowJob(name: c.job) }
        return layout(batch: report.view.id, children: Array(drawn), total: report.view.total, callbacks: callbacks)
    }

    /// The graph text of a batch report, coloured by ``BatchReport/graphStates``.
    public static func render(_ report: BatchReport, format: Format) -> String {
        let (nodes, edges) = layout(report)
        return render(title: report.view.id, nodes: nodes, edges: edges, format: format, states: report.graphStates)
    }
}

extension WorkflowView {
    /// The batches of this workflow the store knows: a group step `k` followed by more steps runs as batch
    /// `W.k` (its children are the group's jobs `W.k.j`).
    public func batches(from store: any JobStore) async throws(StoreError) -> [BatchView] {
        guard let catalog = store.batchCatalog else { return [] }
        var out: [BatchView] = []
        for (k, step) in workflow.steps.enumerated() where step.isGroup {
            let view = try await catalog.view("\(workflowID).\(k + 1)")
            if view.state != .unknown { out.append(view) }
        }
        return out
    }
}
