import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP
import WarrenStore

/// Drain throughput of `noop` jobs with the job store off, on SQLite and on PostgreSQL, in the same run,
/// rounds interleaved (off, sqlite, postgres, off, ...) so drift falls on all alike. Tracked drains must keep
/// at least 75% of the untracked rate.
struct StoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Job store: tracked drain vs store off.")

    @OptionGroup var broker: BrokerOptions

    @Option(help: "Jobs per drain.")
    var count = 20_000

    @Option(help: "Rounds (each drains once per backend).")
    var rounds = 3

    @Option(help: "Worker concurrency (prefetch the same).")
    var concurrency = 100

    @OptionGroup var postgres: PostgresOptions

    func run() async throws {
        var logger = Logger(label: "bench.store")
        logger.logLevel = .error
        var config = try AMQPConfiguration(url: broker.resolvedURL)
        config.connectionName = "warren-bench-store"
        let connection = try await AMQPConnection.connect(config, logger: logger)
        let sqlitePath = FileManager.default.temporaryDirectory.appendingPathComponent("warren-bench-\(getpid()).db").path
        let pgURL = try postgres.url()
        let backends: [(String, StoreURL?)] = [("off", nil), ("sqlite", .sqlite(path: sqlitePath))] + (pgURL.map { [("postgres", $0)] } ?? [])
        var rates: [String: [Double]] = [:]
        for round in 1...rounds {
            for (name, url) in backends {
                let store = try await url?.open(logger: logger)
                let rate = try await drain(connection, store: store, logger: logger)
                await store?.close()
                rates[name, default: []].append(rate)
                print("round \(round) \(name): \(Int(rate)) jobs/s")
            }
        }
        for (name, url) in backends {
            guard let store = try await url?.open(logger: logger) else { continue }
            let ms = try await commitTime(store, rows: concurrency)
            await store.close()
            print(String(format: "  %@: a group commit of %d rows (running + succeeded, one statement) takes %.2f ms", name, concurrency, ms))
        }
        try? FileManager.default.removeItem(atPath: sqlitePath)
        await connection.close()
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let off = median(rates["off"] ?? [1])
        print("store drain (\(count) noop jobs, concurrency \(concurrency), median of \(rounds)): off \(Int(off))/s")
        var failed = false
        for (name, _) in backends where name != "off" {
            let r = median(rates[name] ?? [0])
            let ratio = r / off
            print("  \(name): \(Int(r))/s = \(String(format: "%.2f", ratio)) x off (tracking cost \(Int(((1 - ratio) * 100).rounded()))%, target <= 25%)")
            if ratio < 0.75 { failed = true }
        }
        if failed { throw ExitCode(1) }
    }

    /// Mean time of a group commit of `rows` job updates (each a new job's `succeeded`), over 50 commits.
    private func commitTime(_ store: any JobStore, rows: Int) async throws -> Double {
        let prefix = "bench-commit-\(UUID().uuidString.prefix(8))"
        var total = Duration.zero
        for round in 0..<50 {
            let now = Date()
            let updates = (0..<rows).map { i in
                var u = JobUpdate(id: "\(prefix)-\(round)-\(i)", state: .succeeded, attempt: 1, at: now)
                u.name = "noop"
                u.queue = "bench"
                u.worker = "bench:1"
                u.startedAt = now
                u.finishedAt = now
                return u
            }
            let started = ContinuousClock.now
            try await store.write(StoreBatch(updates: updates))
            total += ContinuousClock.now - started
        }
        return total.seconds * 1000 / 50
    }

    /// Enqueues `count` noop jobs (plain), then drains them with a worker tracking into `store` (if any).
    private func drain(_ connection: AMQPConnection, store: (any JobStore)?, logger: Logger) async throws -> Double {
        let queue = "bench.store.\(UUID().uuidString.prefix(8).lowercased())"
        let topology = Topology(queues: [.init(queue)])
        let channel = try await connection.openChannel()
        try await topology.declare(on: channel)
        let producer = try await JobProducer(connection: connection, topology: topology)
        let requests = (0..<count).map { _ in JobRequest(name: "noop", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue)) }
        _ = await producer.enqueue(batch: requests)
        await producer.channel.close()
        let rate = try await JobsBenchmark.drainNoop(connection, topology, queue, count: count, concurrency: concurrency,
                                                     prefetch: concurrency,
                                                     middleware: store.map { [JobTracker(store: $0, logger: logger)] } ?? [], logger: logger)
        await JobsBenchmark.cleanUp(topology.queues[0], channel)
        return rate
    }
}
