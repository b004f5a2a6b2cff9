import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A small HTTP/1.1 server (SwiftNIO) for operators and orchestrators:
/// - `GET /metrics`: Prometheus text format of ``WarrenMetrics/registry``;
/// - `GET /healthz`: 200 while the process runs (liveness);
/// - `GET /readyz`: 200 when ``Readiness`` passes, else 503 with the failing checks (readiness).
///
/// Run it as a service; it binds in `run()` and closes on graceful shutdown. Put it first in the service
/// group: groups shut services down last-to-first, so it keeps answering (with `/readyz` 503) while the worker
/// drains.
public final class MetricsServer: Service, Sendable {
    /// Address to listen on. Default `0.0.0.0` (all interfaces; it is a scrape target).
    public let host: String
    /// Port to listen on; 0 picks a free one (see ``boundPort()``).
    public let port: Int
    let metrics: WarrenMetrics
    let readiness: Readiness
    let logger: Logger
    private let bound = Mutex<BoundState>(.init())

    private struct BoundState {
        var port: Int?
        var failed = false
        var waiters: [CheckedContinuation<Int?, Never>] = []
    }

    /// A server of `metrics` and `readiness` on `host:port`.
    public init(host: String = "0.0.0.0", port: Int, metrics: WarrenMetrics, readiness: Readiness,
                logger: Logger = Logger(label: "warren.metrics")) {
        self.host = host
        self.port = port
        self.metrics = metrics
        self.readiness = readiness
        self.logger = logger
    }

    /// Binds, serves until graceful shutdown or cancellation, then closes the listening socket.
    public func run() async throws {
        let routes = Routes(metrics: metrics, readiness: readiness)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(routes: routes))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            resolve(nil)
            throw error
        }
        let actual = channel.localAddress?.port ?? port
        resolve(actual)
        logger.info("metrics server listening", metadata: ["address": "\(host):\(actual)"])
        try? await gracefulShutdown()
        try? await channel.close()
    }

    /// The port the server listens on, once bound; `nil` if binding failed.
    public func boundPort() async -> Int? {
        await withCheckedContinuation { (c: CheckedContinuation<Int?, Never>) in
            let ready: Int?? = bound.withLock { s in
                if s.port != nil || s.failed { return .some(s.port) }
                s.waiters.append(c)
                return .none
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    private func resolve(_ port: Int?) {
        let waiters = bound.withLock { s in
            s.port = port
            s.failed = port == nil
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(returning: port) }
    }
}

/// What each path answers.
struct Routes: Sendable {
    let metrics: WarrenMetrics
    let readiness: Readiness

    func respond(method: HTTPMethod, path: String) -> (HTTPResponseStatus, String, [UInt8]) {
        guard method == .GET || method == .HEAD else { return (.methodNotAllowed, "text/plain", Array("GET only\n".utf8)) }
        switch path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path {
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.render())
        case "/healthz":
            return (.ok, "text/plain", Array("ok\n".utf8))
        case "/readyz":
            let failing = readiness.failing()
            if failing.isEmpty { return (.ok, "text/plain", Array("ready\n".utf8)) }
            return (.serviceUnavailable, "text/plain", Array("not ready: \(failing.joined(separator: ", "))\n".utf8))
        default:
            return (.notFound, "text/plain", Array("not found\n".utf8))
        }
    }
}
