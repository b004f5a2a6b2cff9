import ArgumentParser
import Foundation
import Warren

/// `warren dlq purge`: delete dead jobs, with confirmation.
struct DLQPurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge", abstract: "Delete dead jobs (by id, filters or --all), after confirmation unless --yes.")

    @Argument(help: "Job ids to delete.")
    var ids: [String] = []

    @Flag(help: "Delete every dead job of the queues (required when no id or filter is given).")
    var all = false

    @Flag(name: .shortAndLong, help: "Do not ask for confirmation.")
    var yes = false

    @Flag(help: "Print what would be deleted, delete nothing.")
    var dryRun = false

    @OptionGroup var queues: DLQQueueOptions
    @OptionGroup var selection: DLQFilterOptions
    @OptionGroup var pacing: DLQPacingOptions

    func validate() throws {
        guard all || !ids.isEmpty || selection.selects else {
            throw ValidationError("say which jobs: ids, filters (--job, --error, ...) or --all")
        }
    }

    func run() async throws {
        let filter = try selection.filter(ids: ids)
        try await DLQConnection.with("purge") { connection in
            let found = try await queues.resolve(on: connection)
            if dryRun {
                return try await DLQMoveRun.preview(found, filter: filter, limit: selection.limit, json: queues.json,
                                                    connection: connection, verb: "would delete") { _ in "-" }
            }
            if !yes {
                var count = 0
                for info in found {
                    try await DeadLetterBrowser(connection: connection).browse(queue: info.name, filter: filter, limit: selection.limit) { _ in
                        count += 1
                        return true
                    }
                }
                guard count > 0 else { return DLQOutput.note("nothing to delete") }
                guard isatty(STDIN_FILENO) == 1 else {
                    throw DLQFailure("\(count) dead jobs match; standard input is not a terminal: pass --yes to delete them")
                }
                FileHandle.standardError.write(Data("Delete \(count) dead jobs from \(found.map(\.name).joined(separator: ", "))? [y/N] ".utf8))
                guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else { return DLQOutput.note("nothing deleted") }
            }
            let mover = try pacing.mover(connection)
            try await DLQMoveRun.run(found, json: queues.json, verb: "deleted") { queue, progress in
                try await mover.purge(queue: queue, filter: filter, limit: selection.limit, progress: progress)
            }
        }
    }
}
