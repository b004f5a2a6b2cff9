import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP
import WarrenStore

/// Tracking's cost, in the same run: drains with the job store off, on SQLite and on PostgreSQL, rounds
/// interleaved, each round starting with the next backend (off, sqlite, postgres; sqlite, postgres, off;
/// ...) so drift and whatever one drain leaves the broker fall on all alike. Tracked drains must keep at
/// least 75% of the untracked rate: the headline is the median of each round's ratio to that round's
/// untracked drain (paired, as the machine's speed moves from round to round), the ratio of the medians
/// printed beside it.
///
/// - `cli` (the headline): a `warren worker` process at default flags (``CLIWorkerDrain``: `--concurrency 16`,
///   adaptive prefetch, `record` jobs with ~200-byte arguments), the store given as users give it
///   (`WARREN_STORE` / `WARREN_STORE_FILE`);
/// - `noop`: an in-process worker at the library's default configuration (or `--concurrency`/`--prefetch`,
///   labelled tuned), `noop` jobs.
struct StoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Job store: tracked drain vs store off.")

    @OptionGroup var broker: BrokerOptions

    @Option(help: "Jobs per drain.")
    var count = 20_000

    @Option(help: "Rounds (each drains once per backend and phase, starting with the next backend each round).")
    var rounds = 7

    @Option(help: "Comma-separated phases: cli (warren worker, default flags, record jobs), noop (in-process worker), commit (only the group commits' times, taken after any drains).")
    var phases = "cli,noop"

    @Option(help: "Worker concurrency (default 16: the CLI's and the library's default).")
    var concurrency = WorkerConfiguration().concurrency

    @Option(help: "In-process worker's fixed prefetch (default: adaptive, the library's default). A figure taken with it is tuned.")
    var prefetch: Int?

    @Option(help: "The `warren` executable run as the CLI worker (default: the one beside this one).")
    var workerBinary: String?

    @OptionGroup var postgres: PostgresOptions

    func run() async throws {
        let named = phases.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) }
        guard !named.isEmpty, Set(named).isSubset(of: ["cli", "noop", "commit"]) else { throw ValidationError("phases: cli, noop, commit") }
        let selected = named.filter { $0 != "commit" }  // drains; commit times are always taken
        var logger = Logger(label: "bench.store")
        logger.logLevel = .error
        var config = try AMQPConfiguration(url: broker.resolvedURL)
        config.connectionName = "warren-bench-store"
        let connection = try await AMQPConnection.connect(config, logger: logger)
        let sqlitePath = FileManager.default.temporaryDirectory.appendingPathComponent("warren-bench-\(getpid()).db").path
        let pgURL = try postgres.url()
        let backends: [(name: String, url: StoreURL?, env: [String: String])] =
            [("off", nil, [:]), ("sqlite", .sqlite(path: sqlitePath), ["WARREN_STORE": "sqlite:\(sqlitePath)"])]
            + (pgURL.map { [("postgres", $0, ["WARREN_STORE_FILE": postgres.postgresURLFile])] } ?? [])
        let binary = workerBinary.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("warren")
        var rates: [String: [Double]] = [:]
        var cpu: [String: [Double]] = [:]
        for round in 1...rounds {
            for phase in selected {
                let first = (round - 1) % backends.count
                for b in backends[first...] + backends[..<first] {
                    let key = "\(phase) \(b.name)"
                    let (rate, micros): (Double, Double)
                    if phase == "cli" {
                        var drain = CLIWorkerDrain(warren: binary, url: broker.resolvedURL, count: count,
                                                   concurrency: concurrency, environment: b.env)
                        drain.brokerPID = broker.resolvedBrokerPID
                        drain.measureServer = b.name == "postgres"
                        let r = try await drain.run(connection: connection, logger: logger)
                        (rate, micros) = (r.rate, r.cpuMicros)
                        if let us = r.brokerMicros { cpu["\(key) broker", default: []].append(us) }
                        if let us = r.serverMicros { cpu["\(key) server", default: []].append(us) }
                    } else {
                        let store = try await b.url?.open(logger: logger)
                        (rate, micros) = try await drainNoop(connection, store: store, logger: logger)
                        await store?.close()
                    }
                    rates[key, default: []].append(rate)
                    cpu[key, default: []].append(micros)
                    Bench.progress("round \(round) \(key): \(Int(rate)) jobs/s, \(Int(micros)) us CPU per job")
                    await Bench.settle()
                }
            }
        }
        for b in backends {
            guard let store = try await b.url?.open(logger: logger) else { continue }
            let t = try await commitTimes(store, rows: 100)
            await store.close()
            print(String(format: "  %@: a group commit of 100 rows (one statement), 2,000 commits: mean %.2f ms, p99 %.2f ms, longest %.1f ms",
                         b.name, t.mean, t.p99, t.max))
        }
        try? FileManager.default.removeItem(atPath: sqlitePath)
        await connection.close()
        var failed = false
        for phase in selected {
            let what = phase == "cli"
                ? "warren worker --concurrency \(concurrency), default flags otherwise, \(count) record jobs"
                : "in-process worker, \(count) noop jobs, concurrency \(concurrency), prefetch \(prefetch.map { "\($0) (tuned)" } ?? "adaptive")"
            guard let offRates = rates["\(phase) off"], let off = median(offRates) else { continue }
            print("store drain, \(what), \(rounds) rounds: off \(Int(off))/s (median), \(Int(median(cpu["\(phase) off"] ?? []) ?? 0)) us CPU per job")
            for b in backends where b.url != nil {
                let tracked = rates["\(phase) \(b.name)"] ?? []
                let r = median(tracked) ?? 0
                let ratio = median(zip(tracked, offRates).map { $0 / $1 }) ?? 0
                let micros = Int(median(cpu["\(phase) \(b.name)"] ?? []) ?? 0)
                print("  \(b.name): \(String(format: "%.2f", ratio)) x off, median of the rounds' ratios (tracking cost \(Int(((1 - ratio) * 100).rounded()))%, target <= 25%); "
                      + "\(Int(r))/s median = \(String(format: "%.2f", r / off)) x the median off; \(micros) us CPU per job")
                if phase == "cli" { print("    " + Self.machineCPU(cpu, phase: phase, backend: b.name)) }
                if ratio < 0.75 { failed = true }
            }
        }
        if failed { throw ExitCode(1) }
    }

    /// The worker's, broker's and server's CPU per job (medians of rounds) for the untracked drain and
    /// `backend`'s, and their sums: on two shared cores a drain that uses the whole machine runs at about
    /// the inverse of its sum, so the sums' ratio is what tracking costs once the machine is the limit.
    static func machineCPU(_ cpu: [String: [Double]], phase: String, backend: String) -> String {
        func med(_ key: String) -> Double? { median(cpu[key] ?? []) }
        let off = [med("\(phase) off"), med("\(phase) off broker")]
        let server = med("\(phase) \(backend) server")  // measured for PostgreSQL only
        let tracked = [med("\(phase) \(backend)"), med("\(phase) \(backend) broker")] + (server.map { [$0] } ?? [])
        func text(_ v: [Double?]) -> String { v.map { $0.map { String(format: "%.1f", $0) } ?? "-" }.joined(separator: " / ") }
        var line = "CPU per job, medians (us; worker / broker\(server == nil ? "" : " / server")): off \(text(off)), \(backend) \(text(tracked))"
        let (a, b) = (off.compactMap { $0 }, tracked.compactMap { $0 })
        if a.count == 2, b.count >= 2 {
            let (sa, sb) = (a.reduce(0, +), b.reduce(0, +))
            line += String(format: "; sums %.1f and %.1f: %.2fx", sa, sb, sa / sb)
        }
        return line
    }

    /// Times of group commits of `rows` job updates (each a new job's `succeeded`), over `commits` commits:
    /// mean, 99th percentile and longest, in milliseconds. Enough commits that SQLite's write-ahead log
    /// passes a checkpoint's threshold at least once.
    private func commitTimes(_ store: any JobStore, rows: Int, commits: Int = 2_000) async throws -> (mean: Double, p99: Double, max: Double) {
        let prefix = "bench-commit-\(UUID().uuidString.prefix(8))"
        var times: [Double] = []
        times.reserveCapacity(commits)
        for round in 0..<commits {
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
            times.append((ContinuousClock.now - started).seconds * 1000)
        }
        times.sort()
        return (times.reduce(0, +) / Double(commits), times[min(commits - 1, commits * 99 / 100)], times[commits - 1])
    }

    /// Enqueues `count` noop jobs (plain), then drains them with a worker tracking into `store` (if any); the
    /// rate and this process's CPU per job while draining (microseconds).
    private func drainNoop(_ connection: AMQPConnection, store: (any JobStore)?, logger: Logger) async throws -> (Double, Double) {
        let queue = "bench.store.\(UUID().uuidString.prefix(8).lowercased())"
        let topology = Topology(queues: [.init(queue)])
        let channel = try await connection.openChannel()
        try await topology.declare(on: channel)
        let producer = try await JobProducer(connection: connection, topology: topology)
        let requests = (0..<count).map { _ in JobRequest(name: "noop", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue)) }
        _ = await producer.enqueue(batch: requests)
        await producer.channel.close()
        await Bench.settle()
        let cpu0 = CPUTime.process()
        let rate = try await JobsBenchmark.drainNoop(connection, topology, queue, count: count, concurrency: concurrency,
                                                     prefetch: prefetch,
                                                     middleware: store.map { [JobTracker(store: $0, logger: logger)] } ?? [], logger: logger)
        let micros = (CPUTime.process() - cpu0) * 1e6 / Double(count)
        await JobsBenchmark.cleanUp(topology.queues[0], channel)
        return (rate, micros)
    }
}
