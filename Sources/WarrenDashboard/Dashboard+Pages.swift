import Foundation
import Hummingbird
import NIOCore
import Warren

extension Dashboard {
    func registerPages<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.get("/assets/app.css") { _, _ in Self.asset(Assets.css, type: "text/css; charset=utf-8") }
        group.get("/assets/app.js") { _, _ in Self.asset(Assets.js, type: "text/javascript; charset=utf-8") }
        group.get("/login") { [self] request, _ in page("login", title: "Log in", session: nil) }
        group.post("/login") { [self] request, context in
            let token = try await Form.body(request)["token"] ?? ""
            switch gatekeeper.check(token, client: DashboardGuard<Context>.client(context)) {
            case .accepted:
                let s = gatekeeper.open()
                let cookie = "\(DashboardGuard<Context>.cookie)=\(s.id); Path=\(basePath.isEmpty ? "/" : basePath); HttpOnly; SameSite=Strict; Max-Age=\(Int(configuration.sessionLifetime))"
                return redirect("/", headers: [.setCookie: cookie])
            case .refused:
                return page("login", title: "Log in", session: nil, ["error": "Wrong token."], status: .unauthorized)
            case .limited:
                return page("login", title: "Log in", session: nil, ["error": "Too many failed logins: wait a minute."], status: .tooManyRequests)
            }
        }
        group.post("/logout") { [self] request, _ in
            if let s = session(request), try await Form.body(request)["csrf"] == s.csrf { gatekeeper.close(s.id) }
            return redirect("/login", headers: [.setCookie: "\(DashboardGuard<Context>.cookie)=; Path=\(basePath.isEmpty ? "/" : basePath); Max-Age=0"])
        }
        group.get("/") { [self] request, _ in
            var v = Views.overview(await data.overview())
            v["page"] = "overview"
            return page("overview", title: "Overview", session: session(request), v)
        }
        group.get("/queues") { [self] request, _ in
            do {
                var v = Views.queues(try await data.queues())
                v["page"] = "queues"
                return page("queues", title: "Queues", session: session(request), v)
            } catch {
                return page("queues", title: "Queues", session: session(request), ["error": "Broker unreachable: \(error)"], status: .serviceUnavailable)
            }
        }
        group.get("/workers") { [self] request, _ in
            page("workers", title: "Workers", session: session(request),
                 Views.workers(data.workers(), consumers: await data.consumers(), now: Date()))
        }
        group.get("/schedules") { [self] request, _ in
            page("schedules", title: "Schedules", session: session(request), Views.schedules(data.schedules()))
        }
        group.get("/jobs") { [self] request, _ in
            var v: [String: Any] = ["configured": data.jobs != nil, "what": "jobs, batches and workflows", "lookup": data.jobs != nil]
            if let jobs = data.jobs, let id = Form.query(request)["id"], !id.isEmpty {
                v["id"] = id
                if let r = try await jobs.lookup(id: id) { v["record"] = Self.record(r) } else { v["error"] = "No job, batch or workflow '\(id)'." }
            }
            return page("store", title: "Jobs, batches, workflows", session: session(request), v)
        }
        group.get("/limits") { [self] request, _ in
            var v: [String: Any] = ["configured": data.jobs != nil, "what": "global limits"]
            if let jobs = data.jobs {
                v["limits"] = try await jobs.limits().map {
                    ["name": $0.name, "capacity": $0.capacity, "holders": $0.holders.joined(separator: ", "), "waiters": $0.waiters] as [String: Any]
                }
            }
            return page("store", title: "Limits", session: session(request), v)
        }
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A store record for the template; a workflow's steps laid out left to right.
    static func record(_ r: DashboardJobRecord) -> [String: Any] {
        [
            "kind": r.kind, "state": r.state, "progress": r.progress.map { "\(Int($0 * 100)) %" } ?? "-",
            "result": r.result ?? "", "error": r.error ?? "", "hasSteps": !r.steps.isEmpty, "width": max(1, r.steps.count) * 130,
            "steps": r.steps.enumerated().map { i, s in ["id": s.id, "state": s.state, "x": 10 + i * 130, "tx": 20 + i * 130] as [String: Any] },
        ]
    }
}
