import ArgumentParser
import Foundation
import Logging
import Synchronization
import Warren
import WarrenAMQP

/// `warren-bench jobs`: the jobs core against the plain-C baseline, in one run on one broker.
/// Enqueue of N jobs with confirms vs `rawc fill`; drain of N `noop` jobs by an in-process worker (default
/// configuration unless told otherwise) vs `rawc drain`; drain of N `record` jobs with realistic arguments by
/// a `warren worker` process at default flags (``CLIWorkerDrain``) vs `rawc drain`; idle RSS of a `warren
/// worker` process and its RSS holding a full adaptive prefetch of 1 KiB jobs; lateness of delayed jobs; and,
/// for information, the CLI worker and `rawc drain` consuming the same `record` jobs fed at a fixed rate
/// (``PacedFeed``), CPU per job against CPU per message.
struct JobsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "Jobs core: enqueue, drain, idle RSS, delay lateness.")

    /// 50,000: the drains the issue that set the CLI targets measured (the CLI worker's first 5,000 jobs are
    /// also reported apart, so that a cost of starting up shows).
    @Option(help: "Jobs per round (every phase).") var count = 50_000
    @Option(help: "Rounds (medians are reported); odd rounds run rawc first, even rounds Warren first.") var rounds = 7
    @Option(help: "Worker concurrency (in-process drain and the CLI worker's --concurrency).") var concurrency = 16
    @Option(help: "In-process worker's fixed prefetch (default: adaptive, as WorkerConfiguration's default).") var prefetch: Int?
    @Option(help: "Delayed jobs for the lateness measure (delays 50 ms to 3 s).") var delayed = 300
    @Option(help: "Comma-separated phases to run: enqueue, drain, cli, cli-spread (the cli phase's drains, rawc's bare one included, of backlogs published one message at a time, each confirmed before the next), cli-priority (information: the CLI worker on an x-max-priority 10 queue), paced (information: the CLI worker and rawc drain fed the same record jobs at --pace), rss, lateness (drain implies enqueue).")
    var phases = "enqueue,drain,cli,cli-spread,paced,rss,lateness"
    @Option(help: "Jobs per second of the paced phase's feed (published each millisecond, with confirms).") var pace = 10_000.0
    @Flag(help: "Print JSON too.") var json = false
    @Option(help: "The `warren` executable whose idle worker RSS is measured (default: the one beside this one; scripts/bench-jobs.sh passes the fully static deployment build).")
    var workerBinary: String?
    @OptionGroup var broker: BrokerOptions
    @OptionGroup var rawcOptions: RawCOptions

    func run() async throws {
        let selected = Set(phases.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let unknown = selected.subtracting(["enqueue", "drain", "cli", "cli-spread", "cli-priority", "paced", "rss", "lateness"])
        guard unknown.isEmpty else { throw ValidationError("unknown phases: \(unknown.sorted().joined(separator: ", "))") }
        let cli = selected.contains("cli")
        let cliPriority = selected.contains("cli-priority")
        let cliSpread = selected.contains("cli-spread")
        let paced = selected.contains("paced") ? PacedFeed(rate: pace) : nil
        let enqueue = selected.contains("enqueue") || selected.contains("drain") || cli || cliPriority
        let queues = enqueue || paced != nil || cliSpread
        let drain = selected.contains("drain")
        let rawcDrain = drain || cli || cliPriority
        var cliWorker = CLIWorkerDrain(warren: warrenBinary, url: broker.resolvedURL, count: count, concurrency: concurrency)
        cliWorker.brokerPID = broker.resolvedBrokerPID
        let probe = broker.queueProcessProbe
        cliWorker.stateProbe = probe
        var priorityWorker = cliWorker
        priorityWorker.maxPriority = 10
        var spreadWorker = cliWorker
        spreadWorker.spread = true
        let baseline = try BaselineRun(broker: broker, rawcOptions: rawcOptions)
        let (logger, url, rawc) = (baseline.logger, baseline.url, baseline.rawc)
        let cjobs = try RawC.prepareJobsControl(url: url)
        var report = BenchReport(
            benchmark: "jobs",
            parameters: [("count", "\(count)"), ("rounds", "\(rounds)"), ("concurrency", "\(concurrency)"),
                         ("prefetch", prefetch.map { "\($0)" } ?? "adaptive")],
            metrics: ["rawc_fill", "cjobs_fill", "warren_enqueue", "rawc_drain", "warren_drain", "rawc_record_drain", "cli_record",
                      "cli_record_priority", "rawc_drain_spread", "rawc_record_drain_spread", "cli_record_spread"],
            ratios: [.init(name: "enqueue/fill", numerator: "warren_enqueue", denominator: "rawc_fill", target: 0.9),
                     .init(name: "drain/drain", numerator: "warren_drain", denominator: "rawc_drain", target: 1.0),
                     // The CLI worker against plain C draining the very same record jobs from a queue named as
                     // long (Warren's bodies and properties in a plain queue): the issue's baseline, `rawc drain Q`.
                     .init(name: "cli-record/rawc-record", numerator: "cli_record", denominator: "rawc_record_drain", target: 0.9),
                     // Information: against rawc's drain of its own bare 100-byte messages. Not the same work for
                     // the broker: half the binaries per backlog, so its queue process starts dear less often
                     // (RabbitMQ 3.10's cycle of full collections; each drain's start state is printed below).
                     .init(name: "cli-record/drain", numerator: "cli_record", denominator: "rawc_drain"),
                     // The same drains of backlogs published one message at a time, as producers over time build
                     // one: what a delivery costs the broker's queue process differs with it (docs/performance.md,
                     // "The drain's rate"). The same target, on the same baseline.
                     .init(name: "cli-spread/rawc-record-spread", numerator: "cli_record_spread", denominator: "rawc_record_drain_spread", target: 0.9),
                     .init(name: "cli-spread/drain-spread", numerator: "cli_record_spread", denominator: "rawc_drain_spread"),
                     // Information: the same CLI worker on a priority queue (`--max-priority 10`, not a default).
                     .init(name: "cli-priority/drain", numerator: "cli_record_priority", denominator: "rawc_drain"),
                     // Information: what the job format costs the broker, and what the Swift client costs.
                     .init(name: "cjobs/fill", numerator: "cjobs_fill", denominator: "rawc_fill"),
                     .init(name: "enqueue/cjobs", numerator: "warren_enqueue", denominator: "cjobs_fill")])
        let meter = PhaseMeter(messages: count, brokerPID: broker.resolvedBrokerPID)
        for round in 1...rounds where queues {
            // Odd rounds measure rawc first, even rounds Warren first (cjobs, the C producer of Warren jobs,
            // always between them), and every phase starts on a settled broker: whatever order-dependent cost
            // remains (message-store clean-up after a drain, a warmer queue process) falls on all alike.
            let rawcFirst = round % 2 == 1
            Bench.progress("round \(round)/\(rounds) (\(rawcFirst ? "rawc" : "warren") first)")
            var figures: [String: Double] = [:]
            var notes: [String: Double] = [:]
            let connection = try await AMQPConnection.connect(url: url, logger: logger)
            let setup = try await connection.openChannel()
            for side in rawcFirst ? [Side.rawc, .cjobs, .warren, .rawcRecord, .cli, .rawcSpread, .rawcRecordSpread, .cliSpread,
                                     .cliPriority, .pacedRawc, .pacedCLI]
                                  : [.pacedCLI, .pacedRawc, .cliPriority, .cliSpread, .rawcRecordSpread, .rawcSpread, .cli, .rawcRecord,
                                     .warren, .cjobs, .rawc] {
                if !enqueue && [.cjobs, .rawc, .warren].contains(side) { continue }
                switch side {
                case .cjobs:
                    let queue = Topology.Queue(Bench.uniqueQueue("cjobs"))
                    try await Topology(queues: [queue]).declare(on: setup)
                    figures["cjobs_fill"] = try await meter.measure("cjobs_fill", client: CPUTime.children, into: &notes) {
                        try await cjobs.fillJobs(queue: queue.name, count: count, window: 1000).rate
                    }
                    await JobsBenchmark.deleteQueues(of: queue, on: setup)
                case .rawc:
                    let rawQueue = Bench.uniqueQueue(CLIWorkerDrain.rawcBareQueuePrefix)
                    figures["rawc_fill"] = try await meter.measure("rawc_fill", client: CPUTime.children, into: &notes) {
                        try await rawc.fill(queue: rawQueue, count: count, bytes: 100, window: 1000).rate
                    }
                    if rawcDrain {
                        figures["rawc_drain"] = try await Self.rawcDrain(
                            "rawc_drain", of: rawQueue, count: count, rawc: rawc, meter: meter, probe: probe, setup: setup, into: &notes)
                    } else {
                        _ = try? await setup.deleteQueue(rawQueue)
                    }
                case .warren:
                    let queue = Topology.Queue(Bench.uniqueQueue("jobs"))
                    let topology = Topology(queues: [queue])
                    try await topology.declare(on: setup)
                    figures["warren_enqueue"] = try await meter.measure("warren_enqueue", client: CPUTime.process, into: &notes) {
                        try await measureEnqueue(connection, topology, queue.name)
                    }
                    if drain {
                        await Bench.settle()
                        figures["warren_drain"] = try await meter.measure("warren_drain", client: CPUTime.process,
                                                                          switches: ContextSwitches.process, into: &notes) {
                            try await measureDrain(connection, topology, queue.name, logger: logger)
                        }
                    }
                    await JobsBenchmark.deleteQueues(of: queue, on: setup)
                case .rawcRecord:
                    guard cli else { continue }
                    figures["rawc_record_drain"] = try await Self.rawcDrainOfRecordJobs(
                        "rawc_record_drain", filledBy: cliWorker, rawc: rawc, meter: meter, probe: probe, connection: connection, setup: setup, into: &notes)
                case .cli:
                    guard cli else { continue }
                    let r = try await cliWorker.run(connection: connection, logger: logger)
                    r.note(as: "cli_record", warmupJobs: cliWorker.warmupJobs, figures: &figures, notes: &notes)
                case .rawcSpread:
                    guard cliSpread else { continue }
                    let rawQueue = Bench.uniqueQueue(CLIWorkerDrain.rawcBareSpreadQueuePrefix)
                    _ = try await rawc.fill(queue: rawQueue, count: count, bytes: 100, window: 1)
                    figures["rawc_drain_spread"] = try await Self.rawcDrain(
                        "rawc_drain_spread", of: rawQueue, count: count, rawc: rawc, meter: meter, probe: probe, setup: setup, into: &notes)
                case .rawcRecordSpread:
                    guard cliSpread else { continue }
                    figures["rawc_record_drain_spread"] = try await Self.rawcDrainOfRecordJobs(
                        "rawc_record_drain_spread", filledBy: spreadWorker, rawc: rawc, meter: meter, probe: probe, connection: connection, setup: setup, into: &notes)
                case .cliSpread:
                    guard cliSpread else { continue }
                    let r = try await spreadWorker.run(connection: connection, logger: logger)
                    r.note(as: "cli_record_spread", warmupJobs: spreadWorker.warmupJobs, figures: &figures, notes: &notes)
                case .cliPriority:
                    guard cliPriority else { continue }
                    let r = try await priorityWorker.run(connection: connection, logger: logger)
                    figures["cli_record_priority"] = r.rate
                    notes["cli_record_priority_cpu_us"] = r.cpuMicros
                case .pacedRawc:
                    guard let paced else { continue }
                    _ = try await meter.measure("paced_rawc", client: CPUTime.children, switches: ContextSwitches.children, into: &notes) {
                        try await cliWorker.rawcPaced(rawc, connection: connection, feed: paced)
                    }
                case .pacedCLI:
                    guard let paced else { continue }
                    let r = try await cliWorker.run(connection: connection, logger: logger, feed: paced)
                    notes["paced_cli_cpu_us"] = r.cpuMicros
                    if let s = r.steadyCPUMicros { notes["paced_cli_steady_cpu_us"] = s }
                    notes["paced_cli_vcsw"] = r.switchesPerJob
                    notes["paced_rate"] = paced.rate
                    if let us = r.brokerMicros { notes["paced_cli_broker_us"] = us }
                }
                await Bench.settle()
            }
            await setup.close()
            await connection.close()
            report.addRound(figures, notes: notes)
        }
        if queues {
            print(report.render())
            if cli { print(CLIWorkerDrain.summary(report)) }
            if cliSpread { print(CLIWorkerDrain.spreadSummary(report)) }
            if paced != nil { print(CLIWorkerDrain.pacedSummary(report)) }
            fflush(nil)  // before the progress lines on stderr
        }
        if selected.contains("rss") {
            Bench.progress("idle RSS")
            let rss = try await measureIdleRSS(url: url)
            print(String(format: "worker idle RSS: %.1f MiB (target <= 20 MB) of %@", rss, workerBinary ?? "the warren beside warren-bench"))
            Bench.progress("RSS holding a full adaptive prefetch")
            let held = try await Bench.withConnection(url: url) { try await cliWorker.heldRSS(connection: $0, short: 20_000, held: 2_000) }
            print(String(format: "worker RSS holding %d deliveries of 1 KiB jobs (default flags, adaptive prefetch): %.1f MiB (target <= 64 MiB)",
                         held.held, held.rssMiB))
        }
        if selected.contains("lateness") {
            Bench.progress("delay lateness")
            let lateness = try await measureLateness(url: url, logger: logger)
            print(String(format: "delayed-job lateness over %d jobs: p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 <= 50 ms)",
                         delayed, lateness.p50, lateness.p99, lateness.max))
        }
        if json { print(report.json()) }
    }

    private enum Side { case rawc, cjobs, warren, rawcRecord, cli, rawcSpread, rawcRecordSpread, cliSpread, cliPriority, pacedRawc, pacedCLI }

    /// The `warren` executable run as a worker process (idle RSS, CLI drain).
    private var warrenBinary: URL {
        workerBinary.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("warren")
    }

    /// `rawc drain` of a plain queue that `worker` fills with the `record` jobs its own drain gets (in one batch or
    /// one at a time, as it fills its own), measured as `name`; the queue is deleted after.
    private static func rawcDrainOfRecordJobs(_ name: String, filledBy worker: CLIWorkerDrain, rawc: RawC, meter: PhaseMeter,
                                              probe: QueueProcessProbe?, connection: AMQPConnection, setup: AMQPChannel,
                                              into notes: inout [String: Double]) async throws -> Double {
        let plain = try await worker.fillPlainQueueWithRecordJobs(connection: connection)
        return try await rawcDrain(name, of: plain, count: worker.count, rawc: rawc, meter: meter, probe: probe, setup: setup,
                                   into: &notes)
    }

    /// `rawc drain` (prefetch 200) of the `count` messages in `queue`, on a settled broker, measured as `name`
    /// (with the queue process's state at the start, when `probe` reads it); the queue is deleted after.
    private static func rawcDrain(_ name: String, of queue: String, count: Int, rawc: RawC, meter: PhaseMeter,
                                  probe: QueueProcessProbe?, setup: AMQPChannel, into notes: inout [String: Double]) async throws -> Double {
        await Bench.settle()
        probe?.read(queue: queue)?.note(as: name, into: &notes)
        let rate = try await meter.measure(name, client: CPUTime.children, switches: ContextSwitches.children, into: &notes) {
            try await rawc.drain(queue: queue, count: count, prefetch: 200).rate
        }
        _ = try? await setup.deleteQueue(queue)
        return rate
    }

    /// Deletes a benchmark queue's lanes and dead-letter queue.
    static func deleteQueues(of queue: Topology.Queue, on channel: AMQPChannel) async {
        for name in queue.queueNames { _ = try? await channel.deleteQueue(name) }
    }

    /// Deletes a benchmark queue's queues, then closes the channel.
    static func cleanUp(_ queue: Topology.Queue, _ channel: AMQPChannel) async {
        await deleteQueues(of: queue, on: channel)
        await channel.close()
    }

    private func measureEnqueue(_ connection: AMQPConnection, _ topology: Topology, _ queue: String) async throws -> Double {
        let producer = try await JobProducer(connection: connection, topology: topology)
        let requests = (0..<count).map { _ in JobRequest(name: "noop", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue)) }
        let start = ContinuousClock.now
        let results = await producer.enqueue(batch: requests)
        let seconds = (ContinuousClock.now - start).seconds
        let failed = Bench.failures(results)
        guard failed == 0 else { throw ValidationError("\(failed) enqueues failed") }
        await producer.channel.close()
        return Double(count) / seconds
    }

    private func measureDrain(_ connection: AMQPConnection, _ topology: Topology, _ queue: String, logger: Logger) async throws -> Double {
        try await Self.drainNoop(connection, topology, queue, count: count, concurrency: concurrency, prefetch: prefetch, logger: logger)
    }

    /// Drains `count` `noop` jobs from `queue` with an in-process worker (and `middleware`); returns jobs/s
    /// from the first start to the last finish. Shared with the store benchmark.
    static func drainNoop(_ connection: AMQPConnection, _ topology: Topology, _ queue: String, count: Int, concurrency: Int,
                          prefetch: Int?, middleware: [any JobMiddleware] = [], logger: Logger) async throws -> Double {
        var registry = JobRegistry()
        registry.register(name: "noop") { _, _ in }
        return try await Self.drain(connection, topology, registry, count: count, concurrency: concurrency, prefetch: prefetch,
                                    middleware: middleware, logger: logger)
    }

    /// Drains `count` jobs from `topology`'s queues with an in-process worker running `registry`; jobs per
    /// second from the first start to the last finish.
    static func drain(_ connection: AMQPConnection, _ topology: Topology, _ registry: JobRegistry, count: Int,
                      concurrency: Int, prefetch: Int?, middleware: [any JobMiddleware] = [], logger: Logger) async throws -> Double {
        var config = WorkerConfiguration()
        config.queues = topology.queues.map(\.name)
        config.concurrency = concurrency
        config.prefetch = prefetch
        config.declareTopology = false
        config.releaseStartupPages = false
        let counter = DrainCounter(target: count)
        let worker = Worker(connection: connection, registry: registry, topology: topology, configuration: config,
                            middleware: middleware, observer: counter, logger: logger)
        let task = Task { try await worker.run() }
        let seconds = await counter.waitDone(timeout: .seconds(300))
        task.cancel()
        _ = try? await task.value
        guard let seconds else { throw ValidationError("drain did not finish") }
        return Double(count) / seconds
    }

    private func measureIdleRSS(url: String) async throws -> Double {
        let p = Process()
        p.executableURL = warrenBinary
        p.arguments = ["worker", "--queue", "bench.idle.\(UUID().uuidString.prefix(8))", "--max-priority", "0"]
        var env = ProcessInfo.processInfo.environment
        env["WARREN_URL"] = url
        env["WARREN_LOG_LEVEL"] = "error"
        p.environment = env
        try p.run()
        try await Task.sleep(for: .seconds(3))
        let status = (try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8)) ?? ""
        p.terminate()
        p.waitUntilExit()
        let kb = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? .nan
        return kb / 1024
    }

    struct Late: JobParameters {
        static let jobName = "late"
        var due: Int  // ms since epoch
    }

    private func measureLateness(url: String, logger: Logger) async throws -> (p50: Double, p99: Double, max: Double) {
        let connection = try await AMQPConnection.connect(url: url, logger: logger)
        let queue = Topology.Queue("bench.late.\(UUID().uuidString.prefix(8))")
        let topology = Topology(queues: [queue])
        let setup = try await connection.openChannel()
        try await topology.declare(on: setup)
        let samples = Mutex<[Double]>([])
        var registry = JobRegistry()
        registry.register(Late.self) { args, _ in
            let late = Double(Date().millisecondsSince1970 - args.due)
            samples.withLock { $0.append(late) }
        }
        var config = WorkerConfiguration()
        config.queues = [queue.name]
        config.concurrency = 32
        config.declareTopology = false
        let worker = Worker(connection: connection, registry: registry, topology: topology, configuration: config, logger: logger)
        let task = Task { try await worker.run() }
        let producer = try await JobProducer(connection: connection, topology: topology)
        for _ in 0..<delayed {
            let delay = Int.random(in: 50...3000)
            let due = Date().millisecondsSince1970 + delay
            try await producer.enqueue(Late(due: due), options: EnqueueOptions(queue: queue.name, delay: .milliseconds(delay)))
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while samples.withLock({ $0.count }) < delayed && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        task.cancel()
        _ = try? await task.value
        await JobsBenchmark.cleanUp(queue, setup)
        await connection.close()
        let sorted = samples.withLock { $0 }.sorted()
        guard !sorted.isEmpty else { throw ValidationError("no delayed job ran") }
        func pct(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return (pct(0.5), pct(0.99), sorted.last!)
    }
}

/// Counts finished jobs and times the drain from the first start to the last finish.
final class DrainCounter: WorkerObserver {
    private struct State {
        var done = 0
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    let target: Int

    init(target: Int) { self.target = target }

    func jobStarted(name: String, queue: String) {
        state.withLock { if $0.first == nil { $0.first = .now } }
    }

    func jobFinished(name: String, queue: String, outcome: JobOutcome, failed: Bool, duration: Duration) {
        state.withLock { $0.done += 1; $0.last = .now }
    }

    func messageRejected(queue: String, reason: DeadLetterReason) {}

    /// Seconds from the first start to the `target`-th finish, or nil on timeout.
    func waitDone(timeout: Duration) async -> Double? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let s = state.withLock { $0 }
            if s.done >= target, let first = s.first, let last = s.last { return (last - first).seconds }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}
