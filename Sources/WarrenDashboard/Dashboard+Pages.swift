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
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
