import ArgumentParser
import Foundation
import Warren

/// `warren dlq requeue`: dead jobs back to work, published with confirms before they are acked.
struct DLQRequeueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue",
        abstract: "Send dead jobs back to their queue (or --to), attempts reset unless --keep-attempts.",
        discussion: """
            Select by id, by filters, or --all. Each job is published with confirms before it is removed from the
            dead-letter queue: killed at any point, every job is in one queue or the other; up to --batch jobs
            may then be in both (same job id).
            """)

    @Argument(help: "Job ids to requeue.")
    var ids: [String] = []

    @Flag(help: "Requeue every dead job of the queues (required when no id or filter is given).")
    var all = false

    @OptionGroup var queues: DLQQueueOptions
    @OptionGroup var selection: DLQFilterOptions
    @OptionGroup var pacing: DLQPacingOptions

    @Option(help: "Work queue to send the jobs to instead of their own.")
    var to: String?

    @Flag(help: "Keep the attempt count instead of resetting it to 1.")
    var keepAttempts = false

    @Option(help: "Replace the jobs' arguments with this JSON.")
    var setArgs: String?

    @Option(help: "Run the jobs after this delay (250ms, 10s, 5m, 2h, 1d).")
    var delay: String?

    @Flag(help: "Print what would move, move nothing.")
    var dryRun = false

    @OptionGroup var topologyOptions: TopologyOptions

    func validate() throws {
        guard all || !ids.isEmpty || selection.selects else {
            throw ValidationError("say which jobs: ids, filters (--job, --error, ...) or --all")
        }
        if let setArgs, (try? JSONSerialization.jsonObject(with: Data(setArgs.utf8), options: [.fragmentsAllowed])) == nil {
            throw ValidationError("--set-args is not valid JSON: \(setArgs)")
        }
    }

    func run() async throws {
        let filter = try selection.filter(ids: ids)
        var options = RequeueOptions(destination: to, keepAttempts: keepAttempts, arguments: setArgs.map { Array($0.utf8) })
        if let delay { options.delay = try parseDuration(delay) }
        try await DLQConnection.with("requeue") { connection in
            let found = try await queues.resolve(on: connection)
            options.topology = try topologyOptions.topology(queues: found.map { to ?? DeadLetterQueues.workQueue(of: $0.name) })
            if dryRun {
                return try await DLQMoveRun.preview(found, filter: filter, limit: selection.limit, json: queues.json,
                                                    connection: connection, verb: "would requeue") { options.target(for: $0) }
            }
            let mover = try pacing.mover(connection)
            try await DLQMoveRun.run(found, json: queues.json, verb: "requeued") { queue, progress in
                try await mover.requeue(queue: queue, filter: filter, limit: selection.limit, options: options, progress: progress)
            }
        }
    }
}
