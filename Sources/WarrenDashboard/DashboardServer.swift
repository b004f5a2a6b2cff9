import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The request context of a stand-alone dashboard: Hummingbird's basics plus the client's address (for the
/// failed-login limiter).
public struct DashboardContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The client's address.
    public let remoteAddress: SocketAddress?

    /// A context for a request on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// The dashboard as a service of its own, listening on ``DashboardConfiguration/host``:``DashboardConfiguration/port``.
public struct DashboardServer: Service {
    let application: Application<RouterResponder<DashboardContext>>

    /// A server for `dashboard`.
    public init(_ dashboard: Dashboard, logger: Logger) {
        let router = Router(context: DashboardContext.self)
        dashboard.register(on: router)
        application = Application(router: router,
                                  configuration: .init(address: .hostname(dashboard.configuration.host, port: dashboard.configuration.port),
                                                       serverName: "warren-dashboard"),
                                  logger: logger)
    }

    /// Serves until graceful shutdown.
    public func run() async throws { try await application.run() }
}
