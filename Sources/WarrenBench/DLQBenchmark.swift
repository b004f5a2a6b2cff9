import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP

/// `warren-bench dlq`: requeue rate of dead jobs (``DeadLetterMover``, in process: consume, republish with
/// confirms, ack after the confirm) against a C move loop doing the same (`cjobs move`: consume, publish with
/// confirms, ack after the confirm, scripts/bench/cjobs.c; its prefetch is the mover's batch, so both hold at
/// most that many messages in flight: the same bound on duplicates after a kill) and the plain-C publish rate
/// (`rawc fill`, confirms, 1000 in flight), in the same run, alternating which mover goes first; each side's
/// CPU and the broker's per message. Also reports the import rate (``DeadLetterArchive``) used to fill the
/// dead-letter queues.
struct DLQBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dlq", abstract: "Dead-letter requeue rate vs plain-C publish rate.")

    @Option(help: "Dead jobs per round.") var count = 20_000
    @Option(help: "Rounds (medians are reported); odd rounds run the C mover first.") var rounds = 7
    @Option(help: "Most messages in flight, the mover's batchSize and the C mover's prefetch.") var batch = 500
    @Flag(help: "Print JSON too.") var json = false
    @OptionGroup var broker: BrokerOptions
    @OptionGroup var rawcOptions: RawCOptions

    func run() async throws {
        let baseline = try BaselineRun(broker: broker, rawcOptions: rawcOptions)
        let (logger, url, rawc) = (baseline.logger, baseline.url, baseline.rawc)
        let cjobs = try RawC.prepareJobsControl(url: url)
        var report = BenchReport(
            benchmark: "dlq",
            parameters: [("count", "\(count)"), ("rounds", "\(rounds)"), ("batch", "\(batch)")],
            metrics: ["rawc_fill", "warren_dlq_import", "cjobs_move", "warren_dlq_requeue"],
            ratios: [.init(name: "requeue/cmove", numerator: "warren_dlq_requeue", denominator: "cjobs_move", target: 0.8),
                     .init(name: "requeue/fill", numerator: "warren_dlq_requeue", denominator: "rawc_fill")])
        let meter = PhaseMeter(messages: count, brokerPID: broker.resolvedBrokerPID)
        for round in 1...rounds {
            Bench.progress("round \(round)/\(rounds)")
            let rawQueue = Bench.uniqueQueue("rawc")
            let fill = try await rawc.fill(queue: rawQueue, count: count, bytes: 100, window: 1000)
            let connection = try await AMQPConnection.connect(url: url, logger: logger)
            let setup = try await connection.openChannel()
            _ = try? await setup.deleteQueue(rawQueue)
            var figures = ["rawc_fill": fill.rate]
            var notes: [String: Double] = [:]
            for mover in round % 2 == 1 ? ["c", "warren"] : ["warren", "c"] {
                await Bench.settle()
                let queue = Topology.Queue(Bench.uniqueQueue("dlq"))
                try await Topology(queues: [queue]).declare(on: setup)
                let dead = WireFormat.deadLetterQueue(for: queue.name)
                let start = ContinuousClock.now
                let imported = try await DeadLetterArchive(connection: connection, batchSize: 1000)
                    .importRecords(Self.records(count: count, queue: queue.name))
                figures["warren_dlq_import"] = Double(imported) / (ContinuousClock.now - start).seconds
                await Bench.settle()
                if mover == "c" {
                    figures["cjobs_move"] = try await meter.measure("cjobs_move", client: CPUTime.children,
                                                                    switches: ContextSwitches.children, into: &notes) {
                        try await cjobs.move(from: dead, to: queue.name, count: count, prefetch: batch).rate
                    }
                } else {
                    let moved = try await meter.measure("warren_dlq_requeue", client: CPUTime.process, into: &notes) {
                        try await DeadLetterMover(connection: connection, batchSize: batch).requeue(queue: dead)
                    }
                    figures["warren_dlq_requeue"] = moved.rate
                    guard moved.done == count else { throw BenchError("requeue moved \(moved.done) of \(count): \(moved.errors)") }
                }
                let arrived = try await setup.inspectQueue(queue.name).messageCount
                guard arrived == count else { throw BenchError("the work queue holds \(arrived) after the \(mover) move, expected \(count)") }
                await JobsBenchmark.deleteQueues(of: queue, on: setup)
            }
            await setup.close()
            await connection.close()
            report.addRound(figures, notes: notes)
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
