import ArgumentParser
import Foundation
import Warren

/// `warren dlq list`: the selected dead letters, streamed in queue order.
struct DLQListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List dead jobs: id, job, error, attempts, failed at (filters narrow it down).")

    @OptionGroup var queues: DLQQueueOptions
    @OptionGroup var selection: DLQFilterOptions

    func run() async throws {
        let filter = try selection.filter()
        let limit = selection.limit ?? 1000
        try await DLQConnection.with("list") { connection in
            let found = try await queues.resolve(on: connection)
            var rows: [[String]] = []
            for info in found {
                try await DeadLetterBrowser(connection: connection).browse(queue: info.name, filter: filter, limit: limit) { letter in
                    if queues.json { DLQOutput.printJSON(DLQOutput.summary(letter)) } else {
                        rows.append((found.count > 1 ? [info.name] : []) + DLQOutput.row(letter))
                    }
                    return true
                }
            }
            if !queues.json {
                DLQOutput.table((found.count > 1 ? ["QUEUE"] : []) + DLQOutput.rowHeader, rows)
                if selection.limit == nil, rows.count >= limit { DLQOutput.note("(first \(limit) per queue; use --limit)") }
            }
        }
    }
}
