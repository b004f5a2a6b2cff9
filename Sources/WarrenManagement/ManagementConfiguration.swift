import Foundation
import Warren
import WarrenAMQP

/// Where the RabbitMQ management plugin's HTTP API is and how to log in: `WARREN_MANAGEMENT_URL` (or the
/// first line of the file `WARREN_MANAGEMENT_URL_FILE` names), e.g. `http://monitor:secret@127.0.0.1:15672`;
/// without it, port 15672 on the AMQP broker's first host with the AMQP user and password (the same URL's
/// credentials). `WARREN_MANAGEMENT_URL=off` turns the API off (AMQP-only figures).
public struct ManagementConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// Base URL, without credentials or trailing slash (e.g. `http://127.0.0.1:15672`).
    public var baseURL: String
    /// User name.
    public var user: String
    /// Password. Never logged: ``description`` redacts it.
    public var password: String
    /// Virtual host whose queues are read.
    public var virtualHost: String
    /// Time allowed for one request, in seconds. Default 3.
    public var timeout: Double = 3

    /// A configuration.
    public init(baseURL: String, user: String, password: String, virtualHost: String, timeout: Double = 3) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
        self.timeout = timeout
    }

    /// From `environment` (see the type's documentation) and the AMQP settings `amqp`; `nil` when turned off.
    /// Throws ``WarrenError/Code/invalidInput`` for an unreadable file or a URL that is not `http(s)://`.
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment, amqp: AMQPConfiguration) throws(WarrenError) {
        let text = try BrokerEnvironment.setting("WARREN_MANAGEMENT_URL", environment: environment)
        if text == "off" { return nil }
        guard let text else {
            let host = amqp.endpoints.first?.host ?? "127.0.0.1"
            self.init(baseURL: "http://\(host.contains(":") ? "[\(host)]" : host):15672", user: amqp.user,
                      password: amqp.password, virtualHost: amqp.virtualHost)
            return
        }
        guard var parts = URLComponents(string: text), let scheme = parts.scheme, ["http", "https"].contains(scheme), parts.host != nil else {
            throw WarrenError(.invalidInput, "WARREN_MANAGEMENT_URL must be an http(s):// URL")
        }
        let user = parts.user.map { $0.removingPercentEncoding ?? $0 } ?? amqp.user
        let password = parts.password.map { $0.removingPercentEncoding ?? $0 } ?? amqp.password
        parts.user = nil
        parts.password = nil
        parts.path = ""
        self.init(baseURL: parts.string ?? text, user: user, password: password, virtualHost: amqp.virtualHost)
    }

    /// For logs: the URL and user, never the password.
    public var description: String { "\(baseURL) as \(user) (vhost \(virtualHost))" }
}
