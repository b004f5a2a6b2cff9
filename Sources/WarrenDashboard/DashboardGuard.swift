import Foundation
import Hummingbird

/// Security for every dashboard route: response headers (CSP without inline scripts, no framing, no
/// sniffing, no referrer), authentication, the failed-login limiter, and read-only mode. CSRF tokens are
/// checked by the state-changing handlers (they are in the form body), which also need a session.
struct DashboardGuard<Context: RequestContext>: RouterMiddleware {
    static var cookie: Substring { "warren_session" }
    static var policy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    let dashboard: Dashboard

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await check(request, context: context, next: next)
        response.headers[.init("Content-Security-Policy")!] = Self.policy
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }

    private func check(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = String(request.uri.path.dropFirst(dashboard.basePath.count))
        let isAPI = path.hasPrefix("/api/")
        if path == "/login" || path.hasPrefix("/assets/") { return try await next(request, context) }
        let hasSession = dashboard.session(request) != nil
        if !hasSession {
            guard let secret = Self.secret(request) else {
                return isAPI || request.method != .get ? Dashboard.jsonError("authentication required", status: .unauthorized)
                                                       : dashboard.redirect("/login")
            }
            switch dashboard.gatekeeper.check(secret, client: Self.client(context)) {
            case .accepted: break
            case .refused: return Dashboard.jsonError("wrong token", status: .unauthorized)
            case .limited: return Dashboard.jsonError("too many failed logins; wait and retry", status: .tooManyRequests)
            }
        }
        if request.method != .get && request.method != .head {
            if dashboard.configuration.readOnly, path != "/logout" {
                return Dashboard.jsonError("the dashboard is read-only", status: .forbidden)
            }
            if !hasSession { return Dashboard.jsonError("state-changing requests need a login session and its CSRF token", status: .forbidden) }
        }
        return try await next(request, context)
    }

    /// The secret of `Authorization: Bearer T` or `Basic base64(user:T)`.
    static func secret(_ request: Request) -> String? {
        guard let auth = request.headers[.authorization] else { return nil }
        if auth.hasPrefix("Bearer ") { return String(auth.dropFirst(7)) }
        if auth.hasPrefix("Basic "), let data = Data(base64Encoded: String(auth.dropFirst(6))),
           let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") {
            return String(text[text.index(after: colon)...])
        }
        return nil
    }

    /// The client's address, for the failed-login limiter.
    static func client(_ context: Context) -> String {
        guard let address = (context as? any RemoteAddressRequestContext)?.remoteAddress else { return "unknown" }
        return address.ipAddress ?? "unknown"
    }
}
