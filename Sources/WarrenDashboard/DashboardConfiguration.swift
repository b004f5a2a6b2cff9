import Foundation
import Warren

/// How the dashboard runs. Every field has a documented default; ``init(environment:)`` reads the secret.
public struct DashboardConfiguration: Sendable {
    /// Address to listen on. Default `127.0.0.1`: binding elsewhere is a deliberate choice (`--host`).
    public var host: String = "127.0.0.1"
    /// Port. Default 8089.
    public var port: Int = 8089
    /// The login secret: sent as `Authorization: Bearer`, as the password of basic auth, or typed into the
    /// login form. Required: the dashboard refuses to start without one.
    public var token: String
    /// Refuse every state-changing action (requeue, purge). Default `false`.
    public var readOnly: Bool = false
    /// The work queues shown (lanes, dead-letter queues, delay levels follow from the topology).
    public var topology: Topology
    /// Seconds between live updates (server-sent events) and the pages' refresh. Default 2.
    public var refreshInterval: Double = 2
    /// Dead letters per page. Default 50.
    public var pageSize: Int = 50
    /// Failed logins allowed per client address per ``loginWindow`` before it is refused (429). Default 5.
    public var maxFailedLogins: Int = 5
    /// The window failed logins are counted in, seconds; also how long a refused client waits. Default 60.
    public var loginWindow: Double = 60
    /// How long a login session lasts, seconds. Default 12 hours.
    public var sessionLifetime: Double = 12 * 3600

    /// A configuration with `token` for `topology`.
    public init(token: String, topology: Topology) {
        self.token = token
        self.topology = topology
    }

    /// The login secret from `WARREN_DASHBOARD_TOKEN`, or the first line of the file `WARREN_DASHBOARD_TOKEN_FILE`
    /// names (never from argv). Throws ``WarrenError/Code/invalidInput`` when neither gives one, or it is
    /// shorter than 12 characters.
    public static func token(environment: [String: String] = ProcessInfo.processInfo.environment) throws(WarrenError) -> String {
        let token = try BrokerEnvironment.setting("WARREN_DASHBOARD_TOKEN", environment: environment)
        guard let token, !token.isEmpty else {
            throw WarrenError(.invalidInput, "set WARREN_DASHBOARD_TOKEN or WARREN_DASHBOARD_TOKEN_FILE: the dashboard requires a login secret")
        }
        guard token.count >= 12 else { throw WarrenError(.invalidInput, "the dashboard token must have at least 12 characters") }
        return token
    }
}
