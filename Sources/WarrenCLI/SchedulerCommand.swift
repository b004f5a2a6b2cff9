import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP
import WarrenMetrics

/// `warren scheduler --schedule FILE`: one replica of the HA scheduler. Run several with the same `--group`:
/// they elect a leader through the broker, and only the leader publishes (see docs/scheduler.md).
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Publish the jobs of a schedule file on time (run several replicas: one leads, once per fire).")

    @Option(help: "Schedule file (YAML or JSON; see `warren schedule validate`).")
    var schedule: String

    @Option(help: "Replicas with the same group elect one leader (env WARREN_SCHEDULER_GROUP).")
    var group: String = ProcessInfo.processInfo.environment["WARREN_SCHEDULER_GROUP"] ?? "default"

    @Option(help: "Seconds between a follower's attempts to take the lock (bounds the takeover gap).")
    var lockRetry: Double = 1

    @Option(help: "Connection heartbeat in seconds (a cut-off leader loses the lock after about two).")
    var heartbeat: Int = 5

    @Option(help: "Fires missed by less than this are published late whatever their missed-fire policy (e.g. 30s).")
    var lateWindow: String = "30s"

    @Option(help: "While leading, this file holds the process id (removed when leadership ends).")
    var leaderFile: String?

    @Option(help: "Port for /metrics, /healthz and /readyz; 0 = off (env WARREN_METRICS_PORT).")
    var metricsPort: Int = Int(ProcessInfo.processInfo.environment["WARREN_METRICS_PORT"] ?? "") ?? 0

    @OptionGroup var topologyOptions: TopologyOptions

    func run() async throws {
        CLILogging.bootstrap()
        let logger = Logger(label: "warren.scheduler")
        let schedules: [ScheduleDefinition]
        do {
            schedules = try ScheduleFile.load(path: schedule)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        guard lockRetry > 0, heartbeat >= 0 else { throw ValidationError("--lock-retry must be > 0 and --heartbeat >= 0") }
        let topology = try topologyOptions.topology(queues: SchedulerService.queueNames(schedules))
        let config = SchedulerConfiguration(
            group: group, lockRetryInterval: .milliseconds(Int64(lockRetry * 1000)), heartbeat: heartbeat,
            lateFireWindow: try parseDuration(lateWindow))
        let metrics = metricsPort > 0 ? WarrenMetrics.bootstrap() : nil
        // Announces this replica (its schedules, next fires, last fire, leadership) to dashboards.
        let presenceConnection = try await BrokerEnvironment.connect(name: "warren-scheduler-presence", logger: logger)
        let presence = Announcer(connection: presenceConnection, role: .scheduler, queues: SchedulerService.queueNames(schedules),
                                 schedules: schedules,
                                 nextScheduler: SchedulerLog(logger: logger, leaderFile: leaderFile, metrics: metrics.map(SchedulerMetrics.init)),
                                 logger: logger)
        let service = try SchedulerService(
            schedules: schedules, broker: try BrokerEnvironment.configuration(name: "warren-scheduler"),
            topology: topology, configuration: config, observer: presence, logger: logger)
        if let metrics {
            // Ready while the replica runs (leader or follower: both are doing their job).
            let readiness = Readiness()
            let server = MetricsServer(port: metricsPort, metrics: metrics, readiness: readiness, logger: logger)
            try await runUntilSignalled(services: [server, presence, readiness.tracking(service, as: "scheduler")], logger: logger)
        } else {
            try await runUntilSignalled(presence, service, logger: logger)
        }
        await presenceConnection.close()
        if let leaderFile { try? FileManager.default.removeItem(atPath: leaderFile) }
    }
}

/// Logs each fire with its lateness, and keeps the leader file.
struct SchedulerLog: SchedulerObserver {
    let logger: Logger
    let leaderFile: String?
    let metrics: SchedulerMetrics?

    func leadershipChanged(leading: Bool) {
        metrics?.leadershipChanged(leading: leading)
        guard let leaderFile else { return }
        if leading {
            let tmp = leaderFile + ".\(getpid()).tmp"
            if FileManager.default.createFile(atPath: tmp, contents: Data("\(getpid())\n".utf8)) {
                _ = rename(tmp, leaderFile)
            }
        } else if (try? String(contentsOfFile: leaderFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == "\(getpid())" {
            try? FileManager.default.removeItem(atPath: leaderFile)
        }
    }

    func fired(_ fire: FireRecord) {
        metrics?.fired(fire)
        logger.info("fired", metadata: [
            "id": "\(fire.fireID)", "late_ms": "\(Int((fire.lateness.seconds * 1000).rounded()))",
            "caught_up": "\(fire.caughtUp)",
        ])
    }
}
