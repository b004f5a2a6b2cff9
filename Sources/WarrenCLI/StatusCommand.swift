import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP
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
        discussion: "Unacked counts need WARREN_RABBITMQCTL (e.g. '/usr/lib/rabbitmq/bin/rabbitmqctl -n rabbit@host'); otherwise n/a.")

    @Option(name: .customLong("queue"), help: "Work queue(s); repeat or comma-separate (env WARREN_QUEUES, default 'default').")
    var queues: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(name: .customLong("global-limit"), help: ArgumentHelp("Also show this global limit (as given to the workers); repeatable.", valueName: "JOB=N"))
    var globalLimits: [String] = []

    @Option(name: .customLong("rate-limit"), help: ArgumentHelp("Also show this rate limit (as given to the workers); repeatable.", valueName: "JOB=N/s"))
    var rateLimits: [String] = []

    @OptionGroup var topologyOptions: TopologyOptions

    /// One queue's counts; `nil` fields are unknown (queue missing, or no rabbitmqctl for unacked).
    struct Row: Codable {
        var queue: String
        var exists: Bool
        var ready: Int?
        var unacked: Int?
        var consumers: Int?
        var dead: Int?
    }

    struct DelayLevel: Codable {
        var level: Int
        var queue: String
        var messages: Int
    }

    /// A holding queue left by an interrupted `warren topology migrate`.
    struct PendingMigration: Codable {
        var holdingQueue: String
        var messages: Int
    }

    struct Report: Codable {
        var queues: [Row]
        var delayLevels: [DelayLevel]
        var pendingMigrations: [PendingMigration]
        var unackedSource: String
    }

    func run() async throws {
        CLILogging.bootstrap()
        let logger = Logger(label: "warren.status")
        let names = splitList(queues.isEmpty ? [ProcessInfo.processInfo.environment["WARREN_QUEUES"] ?? "default"] : queues)
        let topology = try topologyOptions.topology(queues: names)
        let config = try BrokerEnvironment.configuration(name: "warren-status")
        let connection = try await AMQPConnection.connect(config, logger: logger)
        let inspector = try await QueueInspector(connection: connection)
        let holding = topology.queues.flatMap { topology.declarations(of: $0).map { QueueMigration.holdingQueue(for: $0.name) } }
        let sample = try await inspector.inspect(topology.queueNames(delayLevels: true) + holding)
        await inspector.close()
        let limits = try await connection.closing { c in try await LimitStatus.read(global: globalLimits, rate: rateLimits, on: try await c.openChannel()) }
        let info = Dictionary(sample.map { ($0.name, $0.info) }, uniquingKeysWith: { a, _ in a })

        var counts: [String: (ready: Int, unacked: Int, consumers: Int)]?
        var unackedSource = "n/a (set WARREN_RABBITMQCTL)"
        if let ctl = RabbitMQCtl.fromEnvironment() {
            do {
                counts = try ctl.queueCounts(vhost: config.virtualHost)
                unackedSource = "rabbitmqctl"
            } catch {
                unackedSource = "n/a (\(error))"
            }
        }
        var rows: [Row] = []
        for q in topology.queues {
            let dead = info[WireFormat.deadLetterQueue(for: q.name)].flatMap { $0 }.map { Int($0.messageCount) }
            for lane in q.laneNames {
                let i = info[lane].flatMap { $0 }
                rows.append(Row(queue: lane, exists: i != nil, ready: i.map { Int($0.messageCount) },
                                unacked: i == nil ? nil : counts?[lane]?.unacked, consumers: i.map { Int($0.consumerCount) },
                                dead: lane == q.name ? dead : nil))
            }
        }
        let levels = (0..<DelayRouting.levels).compactMap { level -> DelayLevel? in
            let name = DelayRouting.queue(level: level)
            guard let i = info[name].flatMap({ $0 }), i.messageCount > 0 else { return nil }
            return DelayLevel(level: level, queue: name, messages: Int(i.messageCount))
        }
        let migrations = holding.compactMap { name in
            info[name].flatMap { $0 }.map { PendingMigration(holdingQueue: name, messages: Int($0.messageCount)) }
        }
        let report = Report(queues: rows, delayLevels: levels, pendingMigrations: migrations, unackedSource: unackedSource)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.table(report))
            for l in limits { print("limit: \(l.line)") }
        }
    }

    static func table(_ r: Report) -> String {
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
