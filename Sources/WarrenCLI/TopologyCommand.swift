import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP
import WarrenMetrics

/// `warren topology declare|migrate|print|definitions`: declare Warren's exchanges and queues, re-declare queues
/// whose arguments changed, or show them as the broker has them (a RabbitMQ definitions file, or a readable list).
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Declare or describe the exchanges, queues and bindings Warren uses.",
        subcommands: [Declare.self, Migrate.self, Print.self, Definitions.self])

    /// Flags every subcommand shares: which work queues, and their type.
    struct Selection: ParsableArguments {
        @Option(name: .customLong("queue"), help: "Work queue(s); repeat or comma-separate (env WARREN_QUEUES, default 'default').")
        var queues: [String] = []

        @OptionGroup var topologyOptions: TopologyOptions

        /// The library's definitions export of the selected topology (needs `WARREN_RABBITMQCTL`).
        func definitions(vhost: String) async throws -> BrokerDefinitions {
            guard let ctl = RabbitMQCtl.fromEnvironment() else {
                throw ValidationError("set WARREN_RABBITMQCTL to the rabbitmqctl command (e.g. 'deploy/rabbitmq-local.sh ctl')")
            }
            return try await BrokerDefinitions.export(try topology(), vhost: vhost,
                                                      configuration: try BrokerEnvironment.configuration(name: "warren-topology"), ctl: ctl)
        }

        func topology() throws -> Topology {
            try topologyOptions.topology(selecting: queues)
        }
    }

    struct Declare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Declare the topology on the broker (idempotent).")
        @OptionGroup var selection: Selection

        func run() async throws {
            CLILogging.bootstrap()
            let topology = try selection.topology()
            let connection = try await BrokerEnvironment.connect(name: "warren-topology", logger: Logger(label: "warren.topology"))
            let channel = try await connection.openChannel()
            try await topology.declare(on: channel)
            await connection.close()
            print("declared \(topology.mode.rawValue) topology: queues \(topology.queueNames(delayLevels: false)) and \(DelayRouting.levels) delay levels")
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-declare work queues whose arguments changed (priority, a queue another system declared), keeping every job.",
            discussion: """
                Stop the queues' workers first. Each queue that fails to declare with 406 has its jobs moved to \
                '<queue>.migrating', is re-declared, and gets them back, with publisher confirms; new jobs wait \
                in the holding queue meanwhile. Safe to interrupt and run again. See docs/operations.md.
                """)
        @OptionGroup var selection: Selection
        @Option(help: "Messages per confirm batch while moving (the most a kill can duplicate).") var batch = 500

        func run() async throws {
            CLILogging.bootstrap()
            let topology = try selection.topology()
            let connection = try await BrokerEnvironment.connect(name: "warren-topology", logger: Logger(label: "warren.topology"))
            let channel = try await connection.openChannel()
            do {
                try await topology.declareShared(on: channel)
            } catch {
                guard error.replyCode == 406 else { throw error }
                throw WarrenError(.invalidInput, "the shared delay levels exist in the other mode: a deployment changes between classic and quorum mode in a new virtual host, not by migrating", underlying: error)
            }
            await channel.close()
            let migration = QueueMigration(connection: connection, topology: topology, batchSize: batch)
            for queue in topology.queues {
                for o in try await migration.migrate(queue) {
                    print(o.migrated ? "\(o.queue): migrated, \(o.movedOut) job(s) moved out and \(o.movedBack) back"
                                     : "\(o.queue): already as declared")
                }
            }
            await connection.close()
        }
    }

    struct Print: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the exchanges, queues (with arguments) and bindings the topology declares.",
            discussion: "Declares it in a throwaway virtual host and reads it back: needs WARREN_RABBITMQCTL.")
        @OptionGroup var selection: Selection

        func run() async throws {
            CLILogging.bootstrap()
            let defs = try await selection.definitions(vhost: "/")
            for e in defs.objects("exchanges") { print("exchange \(e["name"] ?? "") (\(e["type"] ?? ""))") }
            for q in defs.objects("queues") { print("queue    \(q["name"] ?? "") \(BrokerDefinitions.json(q["arguments"] ?? [:]))") }
            for b in defs.objects("bindings") {
                print("binding  \(b["source"] ?? "") -> \(b["destination_type"] ?? "") \(b["destination"] ?? "") key '\(b["routing_key"] ?? "")'")
            }
        }
    }

    struct Definitions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a RabbitMQ definitions file (rabbitmqctl import_definitions / load_definitions) for the topology.",
            discussion: """
                Declares the topology in a throwaway virtual host with Warren's own code, exports it with rabbitmqctl and
                rewrites the virtual host, so the file is exactly what workers would declare. Needs WARREN_RABBITMQCTL.
                """)
        @OptionGroup var selection: Selection

        @Option(help: "Virtual host the definitions are for.")
        var vhost = "/"

        func run() async throws {
            CLILogging.bootstrap()
            print(try await selection.definitions(vhost: vhost).text(pretty: true))
        }
    }
}
