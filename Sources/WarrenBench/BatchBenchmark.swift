import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP
import WarrenStore

/// `warren-bench batch`: what a batch's fan-in costs. Per round and store backend, a worker with the batch
/// middleware drains N plain `noop` jobs, then a batch of N `noop` children and its `noop` success
/// callback (every child's outcome recorded in the store's ledger before its ack); both enqueued
/// beforehand, timed from the first start to the last finish. The batch's start (ledger + publish) is
/// reported apart.
struct BatchBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "batch", abstract: "Batches: child drain vs plain drain, per store backend.")

    @Option(help: "Jobs per drain (children per batch).") var count = 100_000
    @Option(help: "Rounds (medians are reported).") var rounds = 3
    @Option(help: "Worker concurrency (default 16: the library's default).") var concurrency = 16
    @Option(help: "Worker prefetch (default: adaptive, the library's default). A figure taken with it is tuned.") var prefetch: Int?
    @Option(help: "Store backends: sqlite, postgres or both (comma-separated).") var stores = "sqlite,postgres"
    @OptionGroup var postgres: PostgresOptions
    @Flag(help: "Print JSON too.") var json = false
    @OptionGroup var broker: BrokerOptions

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let sqlitePath = FileManager.default.temporaryDirectory.appendingPathComponent("warren-bench-batch-\(getpid()).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: sqlitePath + suffix) } }
        var backends: [(String, StoreURL)] = []
        for name in stores.split(separator: ",").map(String.init) {
            switch name {
            case "sqlite": backends.append((name, .sqlite(path: sqlitePath)))
            case "postgres":
                backends.append((name, try postgres.requiredURL()))
            default: throw ValidationError("--stores: sqlite or postgres, not \(name)")
            }
        }
        var report = BenchReport(
            benchmark: "batch", parameters: [("count", "\(count)"), ("rounds", "\(rounds)"), ("concurrency", "\(concurrency)"), ("prefetch", prefetch.map { "\($0) (tuned)" } ?? "adaptive")],
            metrics: ["plain_drain"] + backends.map { "\($0.0)_batch_drain" },
            ratios: backends.map { .init(name: "\($0.0)/plain", numerator: "\($0.0)_batch_drain", denominator: "plain_drain", target: 0.75) })
        for round in 1...rounds {
            Bench.progress("round \(round)/\(rounds)")
            let connection = try await AMQPConnection.connect(url: broker.resolvedURL, logger: logger)
            var values: [String: Double] = [:]
            var notes: [String: Double] = [:]
            for (name, url) in backends {
                let store = try await url.open(logger: logger)
                let ledger = store.batchLedger
                if values["plain_drain"] == nil {
                    values["plain_drain"] = try await drain(connection, ledger, logger, jobs: count, cpu: "plain", into: &notes) { producer, queue in
                        let requests = (0..<count).map { _ in JobRequest(name: "noop", arguments: [], options: EnqueueOptions(queue: queue)) }
                        for result in await producer.enqueue(batch: requests) { _ = try result.get() }
                    }
                }
                var started = 0.0
                values["\(name)_batch_drain"] = try await drain(connection, ledger, logger, jobs: count + 1, cpu: name, into: &notes) { producer, queue in
                    let clock = ContinuousClock.now
                    try await producer.start(Workflow.batch((0..<count).map { _ in .job("noop") }, onSuccess: WorkflowJob(name: "noop"), queue: queue),
                                             ledger: ledger)
                    started = (ContinuousClock.now - clock).seconds
                }
                notes["\(name)_batch_start_s"] = started
                await store.close()
            }
            await connection.close()
            report.addRound(values, notes: notes)
        }
        print(report.render())
        print(Self.cpuSummary(report, drains: ["plain"] + backends.map(\.0)))
        if json { print(report.json()) }
    }

    /// Jobs/s of a worker (batch middleware on `ledger`) draining `jobs` jobs that `fill` enqueued beforehand.
    /// CPU per job over the drain goes into `notes` as `<cpu>_worker_us` (this process), `<cpu>_broker_us`
    /// and `<cpu>_server_us` (local `postgres` processes), where readable: the drains share two cores.
    private func drain(_ connection: AMQPConnection, _ ledger: (any BatchLedger)?, _ logger: Logger, jobs: Int,
                       cpu: String, into notes: inout [String: Double],
                       fill: (JobProducer, String) async throws -> Void) async throws -> Double {
        let queue = Topology.Queue(Bench.uniqueQueue("batch"))
        let topology = Topology(queues: [queue])
        let setup = try await connection.openChannel()
        try await topology.declare(on: setup)
        try await fill(try await JobProducer(connection: connection, topology: topology), queue.name)
        var config = WorkerConfiguration()
        config.queues = [queue.name]
        config.concurrency = concurrency
        config.prefetch = prefetch
        config.declareTopology = false
        var registry = JobRegistry()
        registry.register(name: "noop") { _, _ in }
        let counter = DrainCounter(target: jobs)
        let worker = Worker(connection: connection, registry: registry, topology: topology, configuration: config,
                            middleware: [BatchMiddleware(ledger: ledger, connection: connection, topology: topology, logger: logger)],
                            observer: counter, logger: logger)
        let shared = { SharedCPU.now(brokerPID: broker.resolvedBrokerPID, server: cpu == "postgres") }
        let (worker0, shared0) = (CPUTime.process(), shared())
        let task = Task { try await worker.run() }
        let seconds = await counter.waitDone(timeout: .seconds(900))
        notes["\(cpu)_worker_us"] = (CPUTime.process() - worker0) * 1e6 / Double(jobs)
        let others = shared().perJob(since: shared0, jobs: Double(jobs))
        if let us = others.broker { notes["\(cpu)_broker_us"] = us }
        if let us = others.server { notes["\(cpu)_server_us"] = us }
        task.cancel()
        _ = try? await task.value
        await JobsBenchmark.cleanUp(queue, setup)
        guard let seconds else { throw ValidationError("\(jobs) jobs did not finish") }
        return Double(jobs) / seconds
    }

    /// Medians over the rounds of each drain's CPU per job: the worker (this process), the broker and the
    /// PostgreSQL server, where measured.
    static func cpuSummary(_ report: BenchReport, drains: [String]) -> String {
        func med(_ key: String) -> String { medianText(report.notes.compactMap { $0[key] }, format: "%.1f") }
        return "CPU per job over each drain, medians of rounds (us; worker / broker / PostgreSQL server):\n" + drains.map { d in
            "  \(d): \(med("\(d)_worker_us")) / \(med("\(d)_broker_us")) / \(med("\(d)_server_us"))"
        }.joined(separator: "\n")
    }
}
