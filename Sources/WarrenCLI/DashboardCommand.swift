import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP
import WarrenDashboard
import WarrenManagement
import WarrenMetrics
import WarrenStore

/// `warren dashboard`: the web dashboard (see docs/dashboard.md). The login token comes from
/// `WARREN_DASHBOARD_TOKEN` or `WARREN_DASHBOARD_TOKEN_FILE`, never from argv.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the web dashboard (queues, workers, dead letters, schedules) on 127.0.0.1.",
        discussion: """
            Needs WARREN_DASHBOARD_TOKEN (or WARREN_DASHBOARD_TOKEN_FILE). With WARREN_STORE (or WARREN_STORE_FILE) the jobs and \
            workflows pages read the job store. Unacked counts, rates and consumers' hosts come from the \
            management API (WARREN_MANAGEMENT_URL, default port 15672 of the AMQP host with the AMQP credentials; 'off' to disable).
            """)

    @Option(name: .customLong("queue"), help: "Work queue(s); repeat or comma-separate (env WARREN_QUEUES, default 'default').")
    var queues: [String] = []

    @Option(help: "Address to listen on (default 127.0.0.1; anything else exposes the dashboard to that network).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8089

    @Flag(help: "Refuse every action (requeue, purge).")
    var readOnly = false

    @Option(help: "Seconds between live updates.")
    var refresh = 2.0

    @OptionGroup var limits: LimitOptions

    @OptionGroup var topologyOptions: TopologyOptions

    func run() async throws {
        CLILogging.bootstrap()
        let logger = Logger(label: "warren.dashboard")
        guard refresh >= 0.2 else { throw ValidationError("--refresh must be at least 0.2") }
        var config = DashboardConfiguration(token: try DashboardConfiguration.token(), topology: try topologyOptions.topology(selecting: queues))
        config.host = host
        config.port = port
        config.readOnly = readOnly
        config.refreshInterval = refresh
        let amqp = try BrokerEnvironment.configuration(name: "warren-dashboard")
        let management = try ManagementConfiguration(amqp: amqp).map(ManagementAPI.init)
        let connection = try await AMQPConnection.connect(amqp, logger: logger)
        let board = PresenceBoard()
        try await board.listen(on: connection)
        let store = try await StoreEnvironment.open(logger: logger)
        let data = DashboardData(connection: connection, topology: config.topology, management: management,
                                 rabbitmqctl: RabbitMQCtl.fromEnvironment(), board: board, store: store,
                                 globalLimits: limits.global, rateLimits: limits.rate, refreshInterval: refresh)
        _ = try await data.limits()   // a malformed --global-limit / --rate-limit stops here, not on the page
        let desk = DeadLetterDesk(configuration: amqp, topology: config.topology, logger: logger)
        let dashboard = try Dashboard(configuration: config, data: data, desk: desk, logger: logger)
        logger.info("dashboard listening", metadata: ["url": "http://\(host):\(port)/", "read_only": "\(readOnly)",
                                                     "management": "\(management.map { "\($0.configuration)" } ?? "off")"])
        try await runUntilSignalled(DashboardServer(dashboard, logger: logger), logger: logger)
        await board.stop()
        await desk.close()
        await store?.close()
        await connection.close()
    }
}
