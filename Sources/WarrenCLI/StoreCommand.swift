import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenStore

/// `warren store migrate|sweep`: the job store's schema and clean-up.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Job store (WARREN_STORE / WARREN_STORE_FILE): migrate the schema, sweep.",
        subcommands: [StoreMigrateCommand.self, StoreSweepCommand.self])
}

struct StoreMigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Create or upgrade the job store's schema.")

    func run() async throws {
        CLILogging.bootstrap()
        let store = try await StoreEnvironment.require("warren store migrate", logger: Logger(label: "warren.store"))
        let (from, to) = try await store.migrate()
        print(from == to ? "\(store.location): schema version \(to), up to date" : "\(store.location): schema migrated from version \(from) to \(to)")
        await store.close()
    }
}

struct StoreSweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sweep", abstract: "One bounded sweep: expire finished jobs, mark stale running jobs lost.")

    @OptionGroup var options: StoreOptions

    func run() async throws {
        CLILogging.bootstrap()
        let store = try await StoreEnvironment.require("warren store sweep", logger: Logger(label: "warren.store"))
        let r = try await store.sweep(try options.policy(), now: Date())
        print("deleted \(r.deleted) finished, marked \(r.lost) lost, deleted \(r.expiredKeys) expired unique keys")
        await store.close()
    }
}
