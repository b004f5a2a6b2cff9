import Foundation
import Hummingbird
import Warren

/// The job-store pages (jobs, one job, workflows) and the limits page, with their JSON API. Without a store
/// the pages say how to configure one and the API answers 404 with the same text.
extension Dashboard {
    /// Jobs per page of the jobs list.
    static var jobsPerPage: Int { 50 }

    /// Why store-backed pages are empty: the library's own text naming `WARREN_STORE`.
    static var noStoreText: String { StoreError.notConfigured("This page").message }

    func registerJobs<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.get("/jobs") { [self] request, _ in
            let q = Form.query(request)
            guard let store = data.store else { return page("jobs", title: "Jobs", session: session(request), ["noStore": Self.noStoreText]) }
            var v: [String: Any] = ["page": "jobs", "queue": q["queue"] ?? "", "name": q["name"] ?? ""]
            do {
                let query = try Self.jobQuery(q, limit: configuration.pageSize)
                v["states"] = Views.stateOptions(query.state)
                let p = try await JobPage.read(query, from: store)
                v["jobs"] = p.jobs.map(Views.jobRow)
                var link = q.filter { ["state", "queue", "name"].contains($0.key) }
                if query.after != nil { v["first"] = Form.encode(link) }
                if let next = p.next { link["after"] = next.text; v["next"] = Form.encode(link) }
            } catch {
                v["states"] = Views.stateOptions(nil)
                v["error"] = "\(error)"
            }
            return page("jobs", title: "Jobs", session: session(request), v)
        }
        group.get("/jobs/show") { [self] request, _ in
            let id = Form.query(request)["id"] ?? ""
            guard let store = data.store else { return page("job", title: "Job", session: session(request), ["noStore": Self.noStoreText]) }
            let s: JobStatus
            do { s = try await store.status(id) } catch {
                return page("job", title: "Job", session: session(request), ["error": "\(error)"], status: .serviceUnavailable)
            }
            guard s.state != .unknown else {
                return page("job", title: "Job", session: session(request),
                            ["error": "No job '\(id)' in the store \(store.location): never seen, or deleted after its retention."], status: .notFound)
            }
            return page("job", title: "Job \(id)", session: session(request), ["job": Views.job(s)])
        }
        group.get("/workflows") { [self] request, _ in
            let id = Form.query(request)["id"] ?? ""
            guard let store = data.store else { return page("workflow", title: "Workflows", session: session(request), ["noStore": Self.noStoreText]) }
            var v: [String: Any] = ["id": id, "page": "workflows"]
            guard !id.isEmpty else { return page("workflow", title: "Workflows", session: session(request), v) }
            let found: WorkflowView?
            do { found = try await WorkflowView.read(id, from: store) } catch {
                v["error"] = "\(error)"
                return page("workflow", title: "Workflows", session: session(request), v, status: .serviceUnavailable)
            }
            guard let view = found else {
                v["error"] = "No job of workflow '\(id)' is in the store \(store.location) (are the workers run with WARREN_STORE?)."
                return page("workflow", title: "Workflows", session: session(request), v, status: .notFound)
            }
            var diagram = WorkflowDiagram(view.workflow, states: view.graphStates).context(base: basePath)
            diagram["id"] = id
            diagram["kind"] = view.workflow.kind.rawValue
            v["diagram"] = diagram
            v["steps"] = ["jobs": view.jobs.map(Views.jobRow)]
            return page("workflow", title: "Workflow \(id)", session: session(request), v)
        }
        group.get("/limits") { [self] request, _ in
            do {
                let limits = try await data.limits()
                return page("limits", title: "Limits", session: session(request), ["limits": limits.map(Views.limit), "hasLimits": !limits.isEmpty])
            } catch {
                return page("limits", title: "Limits", session: session(request), ["error": "\(error)"], status: .serviceUnavailable)
            }
        }
        registerJobsAPI(on: group)
    }

    func registerJobsAPI<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.get("/api/jobs") { [self] request, _ in
            guard let store = data.store else { return Self.jsonError(Self.noStoreText, status: .notFound) }
            do {
                let q = Form.query(request)
                let p = try await JobPage.read(try Self.jobQuery(q, limit: min(500, max(1, Int(q["limit"] ?? "") ?? configuration.pageSize))), from: store)
                return Self.json(JobsAnswer(jobs: p.jobs, next: p.next?.text))
            } catch {
                return Self.jsonError("\(error)", status: .badRequest)
            }
        }
        group.get("/api/jobs/:id") { [self] _, context in
            guard let store = data.store else { return Self.jsonError(Self.noStoreText, status: .notFound) }
            let s = try await store.status(context.parameters.get("id") ?? "")
            return s.state == .unknown ? Self.jsonError("not found", status: .notFound) : Self.json(s)
        }
        group.get("/api/workflows/:id") { [self] _, context in
            guard let store = data.store else { return Self.jsonError(Self.noStoreText, status: .notFound) }
            let id = context.parameters.get("id") ?? ""
            let found: WorkflowView?
            do { found = try await WorkflowView.read(id, from: store) } catch { return Self.jsonError("\(error)", status: .serviceUnavailable) }
            guard let view = found else { return Self.jsonError("not found", status: .notFound) }
            return Self.json(WorkflowAnswer(view))
        }
        group.get("/api/limits") { [self] _, _ in
            do { return Self.json(try await data.limits()) } catch { return Self.jsonError("\(error)", status: .serviceUnavailable) }
        }
    }

    /// The store query a jobs page or API call asks for (`state`, `queue`, `name`, `after`).
    static func jobQuery(_ q: [String: String], limit: Int) throws(WarrenError) -> JobQuery {
        var state: JobState?
        if let s = q["state"], !s.isEmpty {
            guard let parsed = JobState(rawValue: s) else { throw WarrenError(.invalidInput, "unknown state '\(s)'") }
            state = parsed
        }
        var after: JobCursor?
        if let a = q["after"], !a.isEmpty {
            guard let parsed = JobCursor(text: a) else { throw WarrenError(.invalidInput, "malformed page cursor '\(a)'") }
            after = parsed
        }
        func text(_ k: String) -> String? { q[k].flatMap { $0.isEmpty ? nil : $0 } }
        return JobQuery(state: state, queue: text("queue"), name: text("name"), limit: limit, after: after)
    }
}

/// `GET /api/jobs`: a page of jobs and the cursor of the next (`after=`), `null` on the last page.
struct JobsAnswer: Encodable {
    var jobs: [JobStatus]
    var next: String?
}

/// `GET /api/workflows/:id`: the jobs found and the graph (``WorkflowGraph/layout(_:)``) with each node's state.
struct WorkflowAnswer: Encodable {
    struct Node: Encodable { var name, label, jobID, state: String; var onFailurePath: Bool }
    struct Edge: Encodable { var from, to: String; var dashed: Bool }
    var id, kind: String
    var jobs: [JobStatus]
    var nodes: [Node]
    var edges: [Edge]

    init(_ view: WorkflowView) {
        let (nodes, edges) = WorkflowGraph.layout(view.workflow)
        let states = view.graphStates
        id = view.workflowID
        kind = view.workflow.kind.rawValue
        jobs = view.jobs
        self.nodes = nodes.map { Node(name: $0.name, label: $0.label, jobID: $0.jobID, state: (states[$0.jobID] ?? .pending).rawValue,
                                      onFailurePath: $0.onFailurePath) }
        self.edges = edges.map { Edge(from: $0.0, to: $0.1, dashed: $0.2) }
    }
}
