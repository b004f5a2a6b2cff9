import Foundation
import Hummingbird
import Logging
import NIOCore
import Mustache
import Warren

/// The web dashboard: pages and a JSON API under `/api/` over ``DashboardData`` and ``DeadLetterDesk``.
/// Mount it in a Hummingbird service with ``register(on:)``, or run it alone with ``DashboardServer``.
///
/// Security: every value is HTML-escaped by the templates; a Content Security Policy allows only the
/// binary's own script and stylesheet; every page and API call needs the token (login form session,
/// `Authorization: Bearer`, or basic auth with the token as password); failed logins are limited per
/// client address and logged; state-changing requests need a login session and its CSRF token; with
/// ``DashboardConfiguration/readOnly`` they are all refused.
public final class Dashboard: Sendable {
    let configuration: DashboardConfiguration
    let data: DashboardData
    let desk: DeadLetterDesk
    let gatekeeper: Gatekeeper
    let library: MustacheLibrary
    let logger: Logger
    /// Path prefix the routes are mounted under (`""` at the root).
    public let basePath: String

    /// A dashboard over `data` and `desk`, mounted under `basePath` (e.g. `/warren`, or `""`).
    public init(configuration: DashboardConfiguration, data: DashboardData, desk: DeadLetterDesk, basePath: String = "",
                logger: Logger = Logger(label: "warren.dashboard")) throws {
        self.configuration = configuration
        self.data = data
        self.desk = desk
        self.basePath = basePath.hasSuffix("/") ? String(basePath.dropLast()) : basePath
        self.logger = logger
        self.gatekeeper = Gatekeeper(token: configuration.token, maxFailures: configuration.maxFailedLogins,
                                     window: configuration.loginWindow, sessionLifetime: configuration.sessionLifetime, logger: logger)
        var library = MustacheLibrary()
        for (name, text) in [("header", Templates.header), ("footer", Templates.footer), ("login", Templates.login),
                             ("overview", Templates.overview), ("queues", Templates.queues), ("workers", Templates.workers),
                             ("schedules", Templates.schedules), ("noStore", Templates.noStore), ("jobs", Templates.jobs), ("job", Templates.job),
                             ("workflow", Templates.workflow), ("batches", Templates.batches), ("batch", Templates.batch), ("limits", Templates.limits), ("filterFields", Templates.filterFields),
                             ("deadLetters", Templates.deadLetters), ("deadLetter", Templates.deadLetter), ("confirm", Templates.confirm)] {
            try library.register(text, named: name)
        }
        self.library = library
    }

    /// Adds the dashboard's routes (and its security middleware, for them only) to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        let group = router.group(RouterPath(basePath.isEmpty ? "" : basePath)).add(middleware: DashboardGuard<Context>(dashboard: self))
        registerPages(on: group)
        registerDeadLetters(on: group)
        registerJobs(on: group)
        registerBatches(on: group)
        registerAPI(on: group)
    }

    /// Renders `template` with `values` plus what every page needs.
    func page(_ template: String, title: String, session: Gatekeeper.Session?, _ values: [String: Any] = [:],
              status: HTTPResponse.Status = .ok) -> Response {
        var context = values
        context["title"] = title
        context["base"] = basePath
        context["page"] = values["page"] ?? ""
        context["refresh"] = Int(configuration.refreshInterval * 1000)
        context["readOnly"] = configuration.readOnly
        if let session { context["csrf"] = session.csrf }
        context["connection"] = data.connection.isConnected ? "broker connected" : "broker connection lost"
        // Page-level messages under names of their own: job data (a filter's `error` field) never lands there.
        context["error"] = nil
        context["notice"] = nil
        if let e = values["error"] as? String, !e.isEmpty { context["pageError"] = e }
        if let n = values["notice"] as? String, !n.isEmpty { context["pageNotice"] = n }
        let html = library.render(context, withTemplate: template) ?? "template \(template) missing"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A JSON answer.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.dateEncodingStrategy = .iso8601
        let data = (try? e.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A JSON error answer.
    static func jsonError(_ message: String, status: HTTPResponse.Status) -> Response { json(["error": message], status: status) }

    /// A redirect (303).
    func redirect(_ path: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.location] = basePath + path
        return Response(status: .seeOther, headers: headers)
    }

    /// The login session of `request`, from its cookie.
    func session(_ request: Request) -> Gatekeeper.Session? {
        guard let cookie = request.headers[.cookie] else { return nil }
        for part in cookie.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == DashboardGuard<BasicRequestContext>.cookie, let s = gatekeeper.session(String(kv[1])) { return s }
        }
        return nil
    }
}

/// Form and query decoding.
enum Form {
    /// `a=1&b=x+y` as a dictionary (last value wins).
    static func fields(_ text: Substring) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let k = kv.first, !k.isEmpty { out[k] = kv.count > 1 ? kv[1] : "" }
        }
        return out
    }

    /// The request's query.
    static func query(_ request: Request) -> [String: String] { fields(Substring(request.uri.query ?? "")) }

    /// The request's urlencoded body (at most 64 KiB).
    static func body(_ request: Request) async throws -> [String: String] {
        var r = request
        let buffer = try await r.collectBody(upTo: 64 << 10)
        return fields(Substring(String(buffer: buffer)))
    }

    /// `fields` re-encoded as a query string, empty values dropped.
    static func encode(_ fields: [String: String]) -> String {
        fields.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { k, v in
            "\(k)=\(v.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }.joined(separator: "&")
    }
}
