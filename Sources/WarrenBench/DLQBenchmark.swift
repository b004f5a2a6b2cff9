import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP

/// `warren-bench dlq`: requeue rate of dead jobs (``DeadLetterMover``, in process: browse, republish with
/// confirms, ack) against the plain-C publish rate (`rawc fill`, confirms, 1000 in flight) in the same run.
/// Also reports the import rate (``DeadLetterArchive``) used to fill the dead-letter queue.
struct DLQBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dlq", abstract: "Dead-letter requeue rate vs plain-C publish rate.")

    @Option(help: "Dead jobs per round.") var count = 20_000
    @Option(help: "Rounds (medians are reported).") var rounds = 3
    @Option(help: "Requeue confirm batch.") var batch = 500
    @Flag(help: "Print JSON too.") var json = false
    @OptionGroup var broker: BrokerOptions
    @OptionGroup var rawcOptions: RawCOptions

    func run() async throws {
        let baseline = try BaselineRun(broker: broker, rawcOptions: rawcOptions)
        let (logger, url, rawc) = (baseline.logger, baseline.url, baseline.rawc)
        var report = BenchReport(
            benchmark: "dlq",
            parameters: [("count", "\(count)"), ("rounds", "\(rounds)"), ("batch", "\(batch)")],
            metrics: ["rawc_fill", "warren_dlq_import", "warren_dlq_requeue"],
            ratios: [.init(name: "requeue/fill", numerator: "warren_dlq_requeue", denominator: "rawc_fill", target: 0.5)])
        for round in 1...rounds {
            Bench.progress("round \(round)/\(rounds)")
            let rawQueue = Bench.uniqueQueue("rawc")
            let fill = try await rawc.fill(queue: rawQueue, count: count, bytes: 100, window: 1000)
            let connection = try await AMQPConnection.connect(url: url, logger: logger)
            let queue = Topology.Queue(Bench.uniqueQueue("dlq"))
            let setup = try await connection.openChannel()
            try await Topology(queues: [queue]).declare(on: setup)
            _ = try? await setup.deleteQueue(rawQueue)
            let dead = WireFormat.deadLetterQueue(for: queue.name)

            var start = ContinuousClock.now
            let imported = try await DeadLetterArchive(connection: connection, batchSize: 1000)
                .importRecords(Self.records(count: count, queue: queue.name))
            let importRate = Double(imported) / (ContinuousClock.now - start).seconds

            start = ContinuousClock.now
            let moved = try await DeadLetterMover(connection: connection, batchSize: batch).requeue(queue: dead)
            let requeueRate = Double(moved.done) / (ContinuousClock.now - start).seconds
            let arrived = try await setup.inspectQueue(queue.name).messageCount
            guard moved.done == count, arrived == count else {
                throw BenchError("requeue moved \(moved.done), work queue holds \(arrived), expected \(count): \(moved.errors)")
            }
            await JobsBenchmark.cleanUp(queue, setup)
            await connection.close()
            report.addRound(["rawc_fill": fill.rate, "warren_dlq_import": importRate, "warren_dlq_requeue": requeueRate])
        }
        print(report.render())
        if json { print(report.json()) }
    }

    /// `count` dead jobs of about 100 bytes, as a worker dead-letters them.
    static func records(count: Int, queue: String) -> [DeadLetterRecord] {
        let now = Date()
        return (0..<count).map { i in
            let job = JobEnvelope(name: "noop", id: "bench-\(i)", queue: queue, arguments: Array(#"{"i":\#(i),"pad":"\#(String(repeating: "x", count: 60))"}"#.utf8),
                                  enqueuedAt: now)
            let failure = FailureRecord.Entry(attempt: 1, type: "BenchError", message: "failed on purpose", at: now, host: "bench")
            let dead = job.deadLettered(reason: .exhausted, failure: failure, at: now)
            return DeadLetterRecord(DeadLetter(deadLetterQueue: WireFormat.deadLetterQueue(for: queue), properties: dead.properties, body: dead.body))
        }
    }
}
