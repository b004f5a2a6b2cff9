import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP

/// `warren-bench limits`: what flow control costs a job that has no limit. In one run, rounds rotate between
/// three in-process workers draining N `noop` jobs:
/// - `off`: no limit configured;
/// - `unhit`: `noop` itself unlimited, another job registered with a global and a rate limit (so the worker
///   has its lease parking and asks, for every job, whether it needs a token): the headline, unhit/off;
/// - `own_unhit`: as `unhit`, and `noop` with a per-worker limit far above the concurrency (a lock per job):
///   what a limit that is never reached costs the job that has it.
struct LimitsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "limits", abstract: "Drain rate of unlimited jobs: limits off vs limits nobody hits.")

    @Option(help: "Jobs per drain.") var count = 20_000
    @Option(help: "Rounds (medians are reported); each round starts with the next configuration.") var rounds = 7
    @Option(help: "Worker concurrency.") var concurrency = 64
    @Option(help: "Worker prefetch.") var prefetch = 512
    @Flag(help: "Print JSON too.") var json = false
    @OptionGroup var broker: BrokerOptions

    /// The job with limits that no benchmark job is, so they are configured but never hit.
    static let limitedJob = "bench-limited"

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let url = broker.resolvedURL
        var report = BenchReport(
            benchmark: "limits",
            parameters: [("count", "\(count)"), ("rounds", "\(rounds)"), ("concurrency", "\(concurrency)"), ("prefetch", "\(prefetch)")],
            metrics: ["limits_off", "limits_unhit", "limits_own_unhit"],
            ratios: [.init(name: "unhit/off", numerator: "limits_unhit", denominator: "limits_off", target: 0.95),
                     .init(name: "own-unhit/off", numerator: "limits_own_unhit", denominator: "limits_off")])
        let global = GlobalLimit(permits: 8)
        let rate = RateLimit(count: 100, per: .seconds(1))
        let configs = ["off", "unhit", "own_unhit"]
        for round in 1...rounds {
            // Each round starts with another configuration, so drift and warm-up fall on all alike.
            let order = (0..<configs.count).map { configs[($0 + round - 1) % configs.count] }
            Bench.progress("round \(round)/\(rounds) (\(order.joined(separator: ", ")))")
            var figures: [String: Double] = [:]
            let connection = try await AMQPConnection.connect(url: url, logger: logger)
            let setup = try await connection.openChannel()
            for config in order {
                let queue = Topology.Queue(Bench.uniqueQueue(config))
                let topology = Topology(queues: [queue])
                try await topology.declare(on: setup)
                try await fill(connection, topology, queue.name)
                await Bench.settle()
                var registry = JobRegistry()
                switch config {
                case "off":
                    registry.register(name: "noop") { _, _ in }
                default:
                    registry.register(name: "noop", maxConcurrent: config == "own_unhit" ? 1_000_000 : nil) { _, _ in }
                    registry.register(name: Self.limitedJob) { _, _ in }
                    try registry.limit(Self.limitedJob, global: global, rate: rate)
                }
                figures["limits_\(config)"] = try await JobsBenchmark.drain(
                    connection, topology, registry, count: count, concurrency: concurrency, prefetch: prefetch, logger: logger)
                await JobsBenchmark.deleteQueues(of: queue, on: setup)
                await Bench.settle()
            }
            for name in [global.queueName(job: Self.limitedJob, key: nil), rate.queueName(job: Self.limitedJob, key: nil)] {
                _ = try? await setup.deleteQueue(name)
            }
            await setup.close()
            await connection.close()
            report.addRound(figures)
        }
        print(report.render())
        if json { print(report.json()) }
    }

    /// Enqueues `count` `noop` jobs (confirmed batch).
    private func fill(_ connection: AMQPConnection, _ topology: Topology, _ queue: String) async throws {
        let producer = try await JobProducer(connection: connection, topology: topology)
        let requests = (0..<count).map { _ in JobRequest(name: "noop", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue)) }
        let failed = Bench.failures(await producer.enqueue(batch: requests))
        await producer.channel.close()
        guard failed == 0 else { throw BenchError("\(failed) enqueues failed") }
    }
}
