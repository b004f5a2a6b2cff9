/// A started workflow as a job store sees it: the state of each job it has reached, found by the
/// deterministic job ids (``WorkflowAdvance``), and the workflow redrawn from them for
/// ``WorkflowGraph``. Steps not reached yet are not in the store (the itinerary travels in the
/// messages), so they are not shown.
public struct WorkflowView: Sendable {
    /// The workflow id.
    public var workflowID: String
    /// The jobs found, in order: steps (a group's children together), compensations newest step first, the
    /// on-failure job.
    public var jobs: [JobStatus]
    /// The workflow as far as it was reached (job names from the store), for drawing.
    public var workflow: Workflow

    /// Each job's state for ``WorkflowGraph/render(_:format:states:)``.
    public var graphStates: [String: WorkflowGraph.State] {
        Dictionary(jobs.map { ($0.id, WorkflowGraph.State($0.state)) }, uniquingKeysWith: { a, _ in a })
    }

    /// The workflow a job id belongs to, when it has the form of a workflow job's id (`W.k`, `W.k.j`,
    /// `W.undo-k`, `W.on-failure`); `W.k.j` is read as a group child (workflow ids are UUIDs by default).
    public static func workflowID(ofJob id: String) -> String? {
        var parts = id.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, let last = parts.last else { return nil }
        let isNumber = { (p: Substring) in !p.isEmpty && p.allSatisfy(\.isASCIIDigit) }
        if last == "on-failure" || (last.hasPrefix("undo-") && isNumber(last.dropFirst(5))) {
            parts.removeLast()
        } else if isNumber(last) {
            parts.removeLast()
            if parts.count >= 2, let k = parts.last, isNumber(k) { parts.removeLast() }
        } else {
            return nil
        }
        let workflow = parts.joined(separator: ".")
        return workflow.isEmpty ? nil : workflow
    }

    /// Reads workflow `id` from `store` (see ``read(_:maxSteps:status:)``); `nil` when not even step 1 is known.
    public static func read(_ id: String, from store: any JobStore, maxSteps: Int = 10_000) async throws(StoreError) -> WorkflowView? {
        do {
            return try await read(id, maxSteps: maxSteps) { try await store.status($0) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.query, "reading workflow \(id): \(error)")
        }
    }

    /// Reads workflow `id` through `status` (a store's ``JobStore/status(_:)``): steps 1, 2, ... until
    /// neither the step nor a first group child is known (at most `maxSteps`), then the compensations of
    /// the steps found and the on-failure job. `nil` when not even step 1 is known.
    public static func read(_ id: String, maxSteps: Int = 10_000,
                            status: (String) async throws -> JobStatus) async rethrows -> WorkflowView? {
        var jobs: [JobStatus] = []
        var steps: [WorkflowStep] = []
        func job(_ s: JobStatus) -> WorkflowStep { .job(s.name ?? "?", queue: s.queue) }
        for k in 1...max(1, maxSteps) {
            let single = try await status("\(id).\(k)")
            if single.state != .unknown {
                jobs.append(single)
                steps.append(job(single))
                continue
            }
            var children: [JobStatus] = []
            while children.count < maxSteps {
                let child = try await status("\(id).\(k).\(children.count + 1)")
                guard child.state != .unknown else { break }
                children.append(child)
            }
            guard !children.isEmpty else { break }
            jobs += children
            steps.append(.group(children.map(job)))
        }
        guard !steps.isEmpty else { return nil }
        var kind = Itinerary.Kind.chain
        for k in stride(from: steps.count, through: 1, by: -1) {
            let undo = try await status("\(id).undo-\(k)")
            guard undo.state != .unknown, !steps[k - 1].isGroup else { continue }
            jobs.append(undo)
            steps[k - 1].compensation = WorkflowJob(name: undo.name ?? "?")
            kind = .saga
        }
        let failure = try await status("\(id).on-failure")
        if failure.state != .unknown { jobs.append(failure) }
        let workflow = Workflow(id: id, kind: kind, steps: steps,
                                onFailure: failure.state == .unknown ? nil : WorkflowJob(name: failure.name ?? "?"))
        return WorkflowView(workflowID: id, jobs: jobs, workflow: workflow)
    }
}
