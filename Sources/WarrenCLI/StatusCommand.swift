import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP
import WarrenManagement
import WarrenMetrics

/// `warren status`: ready/unacked counts and consumers per work queue (every lane), dead-letter counts, the
/// occupancy of the delay levels, and migrations left unfinished (`warren topology migrate`).
///
/// Ready and consumer counts come over AMQP (passive declares). AMQP 0-9-1 does not tell unacknowledged
/// counts: they come from `rabbitmqctl list_queues` when `WARREN_RABBITMQCTL` names the command, else "n/a".
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show queues: ready, unacked, consumers, dead letters, delay-level occupancy.",
        discussion: """
            Unacked counts and rates come from the management API (WARREN_MANAGEMENT_URL, default port 15672 of the AMQP host with \
            the AMQP credentials; 'off' to skip it), else from WARREN_RABBITMQCTL (e.g. '/usr/lib/rabbitmq/bin/rabbitmqctl -n rabbit@host'); \
            otherwise n/a, saying why.
            """)

    @Option(name: .customLong("queue"), help: "Work queue(s); repeat or comma-separate (env WARREN_QUEUES, default 'default').")
    var queues: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var limitOptions: LimitOptions

    @OptionGroup var topologyOptions: TopologyOptions

    func run() async throws {
        CLILogging.bootstrap()
        let topology = try topologyOptions.topology(selecting: queues)
        let amqp = try BrokerEnvironment.configuration(name: "warren-status")
        let management = try ManagementConfiguration(amqp: amqp).map(ManagementAPI.init)
        let statistics: [any QueueStatisticsSource] = (management.map { [$0] } ?? []) + (RabbitMQCtl.fromEnvironment().map { [$0] } ?? [])
        let connection = try await AMQPConnection.connect(amqp, logger: Logger(label: "warren.status"))
        let (collected, limits) = try await connection.closing { connection in
            let report = try await BrokerStatus.collect(topology: topology, connection: connection, statistics: statistics, alarms: true)
            let limits = try await LimitStatus.read(global: limitOptions.global, rate: limitOptions.rate, on: try await connection.openChannel())
            return (report, limits)
        }
        var report = collected
        if json {
            report.limits = limits
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.table(report))
            for l in limits { print("limit: \(l.line)") }
        }
    }

    static func table(_ r: BrokerStatus) -> String {
        func cell(_ v: Int?) -> String { v.map(String.init) ?? "n/a" }
        var lines = [["QUEUE", "READY", "UNACKED", "CONSUMERS", "DEAD"]]
        for row in r.queues {
            lines.append(row.exists ? [row.queue, cell(row.ready), cell(row.unacked), cell(row.consumers), row.dead.map(String.init) ?? "-"]
                                    : [row.queue, "missing", "", "", ""])
        }
        let widths = (0..<5).map { c in lines.map { $0[c].count }.max() ?? 0 }
        var out = lines.map { l in
            l.enumerated().map { c, s in c == 0 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                                                : String(repeating: " ", count: widths[c] - s.count) + s }
                .joined(separator: "  ")
        }
        out.append("unacked: \(r.unackedSource)")
        for row in r.queues where row.isFull {
            out.append("FULL: '\(row.queue)' is at its limit of \(row.maxLength ?? 0) ready jobs: enqueues fail with queueFull until workers take some")
        }
        switch r.alarms {
        case nil: out.append("alarms: n/a (needs the management API)")
        case let alarms? where alarms.isEmpty: out.append("alarms: none")
        case let alarms?: out.append("alarms: \(alarms.joined(separator: ", ")): the broker blocks every publisher; enqueues wait, then fail with brokerBlocked")
        }
        if r.delayLevels.isEmpty {
            out.append("delay levels: all empty")
        } else {
            let total = r.delayLevels.reduce(0) { $0 + $1.messages }
            out.append("delay levels: \(total) message(s) waiting: "
                       + r.delayLevels.map { "L\($0.level) (\(1 << $0.level) ms)=\($0.messages)" }.joined(separator: ", "))
        }
        for m in r.pendingMigrations {
            out.append("unfinished migration: '\(m.holdingQueue)' holds \(m.messages) job(s); run `warren topology migrate` with the same queues")
        }
        return out.joined(separator: "\n")
    }
}
