import ArgumentParser
import Foundation
import Warren

/// `warren dlq stats`: per dead-letter queue, how many, oldest and newest, counts by job and error type.
struct DLQStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Dead count, oldest and newest failure, counts by job, error type and reason.")

    @OptionGroup var queues: DLQQueueOptions

    @Option(help: "Show this many top entries per breakdown in tables.")
    var top = 10

    func run() async throws {
        let all = try await DLQConnection.with("stats") { connection in
            var all: [DeadLetterStats] = []
            for info in try await queues.resolve(on: connection) {
                all.append(try await DeadLetterBrowser(connection: connection).stats(queue: info.name))
            }
            return all
        }
        if queues.json { return try DLQOutput.printJSON(encodable: all) }
        if all.isEmpty { return DLQOutput.note("no dead-letter queue found (use --queue or WARREN_QUEUES)") }
        DLQOutput.table(["QUEUE", "DEAD", "OLDEST", "NEWEST"],
                        all.map { [$0.queue, "\($0.count)", DLQOutput.time($0.oldest), DLQOutput.time($0.newest)] })
        for s in all where s.count > 0 {
            print("")
            for (title, counts) in [("JOB", s.byJob), ("ERROR TYPE", s.byErrorType), ("REASON", s.byReason)] {
                let rows = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(top)
                    .map { [s.queue, $0.key.isEmpty ? "-" : $0.key, "\($0.value)"] }
                DLQOutput.table(["QUEUE", title, "COUNT"], Array(rows))
                print("")
            }
        }
    }
}
