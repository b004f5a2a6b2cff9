import ArgumentParser
import Foundation
import Warren

/// `warren dlq import FILE`: an export back into dead-letter queues, with confirms.
struct DLQImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Publish an export file back (to each record's queue, or --to), with confirms.")

    @Argument(help: "Export file (JSON Lines), or - for standard input.")
    var file: String

    @Option(help: "Dead-letter queue (or its work queue) to put every record in, instead of the record's own.")
    var to: String?

    @Option(help: "Messages per confirm batch.")
    var batch = 500

    func run() async throws {
        let lines = try DeadLetterLineReader(path: file)
        let bar = DLQProgressBar(label: "import")
        let n = try await DLQConnection.with("import") { connection in
            try await DeadLetterArchive(connection: connection, batchSize: batch).importLines(lines, destination: to) { n in
                bar.update(done: n, scanned: n, total: n)
            }
        }
        bar.finish()
        DLQOutput.note("imported \(n) messages (each confirmed by the broker)")
    }
}
