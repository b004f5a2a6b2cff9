import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP

/// `warren-bench workflow`: what workflows cost, against plain jobs in the same run, every worker with the
/// workflow middleware (as `warren worker` runs). Drain of N `noop` jobs started as one group (each
/// carrying an itinerary) vs N plain `noop` jobs; a chain of S `noop` steps (publish with confirms + ack per
/// step) vs S jobs that each enqueue the next by hand (`context.enqueue`), in microseconds per step.
struct WorkflowBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "workflow", abstract: "Workflows: group drain vs plain drain; chain step overhead.")

    @Option(help: "Jobs per drain.") var count = 100_000
    @Option(help: "Steps of the chain.") var steps = 1_000
    @Option(help: "Rounds (medians are reported).") var rounds = 3
    @Option(help: "Worker concurrency.") var concurrency = 64
    @Option(help: "Worker prefetch.") var prefetch = 512
    @Flag(help: "Print JSON too.") var json = false
    @OptionGroup var broker: BrokerOptions

    struct Next: JobParameters {
        static let jobName = "bench-next"
        var left: Int
        var queue: String
    }

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let url = broker.resolvedURL
        var report = BenchReport(
            benchmark: "workflow",
            parameters: [("count", "\(count)"), ("steps", "\(steps)"), ("rounds", "\(rounds)"), ("concurrency", "\(concurrency)")],
            metrics: ["plain_drain", "group_drain", "hand_chain", "workflow_chain"],
            ratios: [.init(name: "group/plain", numerator: "group_drain", denominator: "plain_drain", target: 0.75),
                     .init(name: "chain/hand", numerator: "workflow_chain", denominator: "hand_chain")])
        for round in 1...rounds {
            Bench.progress("round \(round)/\(rounds)")
            let connection = try await AMQPConnection.connect(url: url, logger: logger)
            let plain = try await drain(connection, logger) { producer, queue in
                let requests = (0..<count).map { _ in JobRequest(name: "noop", arguments: [], options: EnqueueOptions(queue: queue)) }
                for result in await producer.enqueue(batch: requests) { _ = try result.get() }
            }
            let group = try await drain(connection, logger) { producer, queue in
                try await producer.start(Workflow.group((0..<count).map { _ in .job("noop") }, queue: queue))
            }
            let hand = try await chain(connection, logger) { producer, queue in
                try await producer.enqueue(Next(left: steps - 1, queue: queue), options: EnqueueOptions(queue: queue))
            }
            let workflow = try await chain(connection, logger) { producer, queue in
                try await producer.start(Workflow(kind: .chain, steps: (0..<steps).map { _ in .job("noop") }, queue: queue))
            }
            await connection.close()
            let perStep = { (rate: Double) in 1_000_000 / rate }
            report.addRound(["plain_drain": plain, "group_drain": group, "hand_chain": hand, "workflow_chain": workflow],
                            notes: ["hand_chain_us_per_step": perStep(hand), "workflow_chain_us_per_step": perStep(workflow),
                                    "workflow_overhead_us_per_step": perStep(workflow) - perStep(hand)])
        }
        print(report.render())
        if json { print(report.json()) }
    }

    private func registry() -> JobRegistry {
        var r = JobRegistry()
        r.register(name: "noop") { _, _ in }
        r.register(Next.self) { args, context in
            if args.left > 0 { try await context.enqueue(Next(left: args.left - 1, queue: args.queue), options: EnqueueOptions(queue: args.queue)) }
        }
        return r
    }

    /// Jobs/s of a worker draining what `fill` enqueued beforehand.
    private func drain(_ connection: AMQPConnection, _ logger: Logger,
                       fill: (JobProducer, String) async throws -> Void) async throws -> Double {
        let (queue, topology, setup) = try await declare(connection)
        try await fill(try await JobProducer(connection: connection, topology: topology), queue.name)
        let seconds = try await run(connection, topology, queue, jobs: count, logger) {}
        await JobsBenchmark.cleanUp(queue, setup)
        return Double(count) / seconds
    }

    /// Steps/s of a chain of `steps` jobs started by `start` once the worker runs.
    private func chain(_ connection: AMQPConnection, _ logger: Logger,
                       start: @escaping (JobProducer, String) async throws -> Void) async throws -> Double {
        let (queue, topology, setup) = try await declare(connection)
        let producer = try await JobProducer(connection: connection, topology: topology)
        let seconds = try await run(connection, topology, queue, jobs: steps, logger) { try await start(producer, queue.name) }
        await JobsBenchmark.cleanUp(queue, setup)
        return Double(steps) / seconds
    }

    private func declare(_ connection: AMQPConnection) async throws -> (Topology.Queue, Topology, AMQPChannel) {
        let queue = Topology.Queue(Bench.uniqueQueue("wf"))
        let topology = Topology(queues: [queue])
        let setup = try await connection.openChannel()
        try await topology.declare(on: setup)
        return (queue, topology, setup)
    }

    /// Runs a worker (with the workflow middleware) until `jobs` finished; seconds from the first start.
    private func run(_ connection: AMQPConnection, _ topology: Topology, _ queue: Topology.Queue, jobs: Int, _ logger: Logger,
                     then: () async throws -> Void) async throws -> Double {
        var config = WorkerConfiguration()
        config.queues = [queue.name]
        config.concurrency = concurrency
        config.prefetch = prefetch
        config.declareTopology = false
        let counter = DrainCounter(target: jobs)
        let worker = Worker(connection: connection, registry: registry(), topology: topology, configuration: config,
                            middleware: [WorkflowMiddleware(connection: connection, topology: topology, logger: logger)],
                            observer: counter, logger: logger)
        let task = Task { try await worker.run() }
        try await then()
        let seconds = await counter.waitDone(timeout: .seconds(600))
        task.cancel()
        _ = try? await task.value
        guard let seconds else { throw ValidationError("\(jobs) jobs did not finish") }
        return seconds
    }
}
