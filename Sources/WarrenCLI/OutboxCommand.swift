import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenStore

/// `warren outbox relay`: publishes jobs enqueued inside PostgreSQL transactions (docs/store.md).
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Transactional enqueue (PostgreSQL store): run the outbox relay.",
        subcommands: [OutboxRelayCommand.self])
}

struct OutboxRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay", abstract: "Publish committed outbox rows with confirms (one leader at a time; others wait).")

    @Option(help: "Rows per round.")
    var batchSize: Int = 500

    @Option(help: "Poll interval besides LISTEN/NOTIFY wake-ups.")
    var poll: String = "1s"

    @Option(help: "Name of the broker-side leader lock (an exclusive queue).")
    var lockQueue: String = "warren.outbox.lock"

    @OptionGroup var topologyOptions: TopologyOptions

    func run() async throws {
        CLILogging.bootstrap()
        let logger = Logger(label: "warren.outbox")
        guard let url = try StoreURL.fromEnvironment() else { throw StoreError.notConfigured("the outbox relay") }
        let topology = try topologyOptions.topology(queues: [])
        let connection = try await BrokerEnvironment.connect(name: "warren-outbox", logger: logger)
        let relay = try OutboxRelay(url: url, connection: connection, topology: topology, lockQueue: lockQueue,
                                    batchSize: batchSize, pollInterval: try StoreEnvironment.duration(poll), logger: logger)
        try await runUntilSignalled(relay, logger: logger)
        await connection.close()
    }
}
