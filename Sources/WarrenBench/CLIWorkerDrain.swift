import Foundation
import Logging
import Warren
import WarrenAMQP

/// One drain by a `warren worker` process started as a user would, with default flags
/// (`warren worker --queue Q --concurrency 16`: adaptive prefetch, the CLI's default topology), running
/// `record` jobs whose arguments are a realistic JSON object of five fields (~200 bytes): each appends
/// one line to a file. Timed from the first line written to the last (steady state, the worker's start-up
/// excluded), by watching the file's size; the worker's CPU time and voluntary context switches (all its
/// threads, from /proc) are read at both ends. The CPU is also read once ``warmupJobs`` lines are written,
/// which splits the drain's CPU per job into the worker's first jobs and the rest, so that a cost of starting
/// up shows apart (information; the headline stays first to last).
struct CLIWorkerDrain {
    let warren: URL
    let url: String
    let count: Int
    let concurrency: Int
    /// Extra environment of the worker process (e.g. `WARREN_STORE`).
    var environment: [String: String] = [:]
    /// `--max-priority` given to the worker (and its queue declared so); `nil`: no flag, the CLI's default.
    var maxPriority: Int?
    /// The broker's process, when it runs here: its CPU per job over the same interval.
    var brokerPID: Int32?
    /// Whether to read the CPU of local `postgres` processes over the interval (a tracked drain's server).
    var measureServer = false
    /// Whether the backlogs this drain fills (its own and ``fillPlainQueueWithRecordJobs(connection:)``'s) are
    /// published one job at a time, each confirmed before the next, as producers over time build one, instead
    /// of in one batch. What a delivery costs the broker's queue process differs with it (docs/performance.md,
    /// "The drain's rate").
    var spread = false
    /// The first jobs of the drain counted as the worker's warm-up in ``Result/warmupCPUMicros`` and
    /// ``Result/steadyCPUMicros``. No split when the drain has fewer than twice as many.
    var warmupJobs = 5_000
    /// Reads the queue process's state once the backlog is settled, just before the worker starts
    /// (``QueueProcessState``); nil: not read (a remote broker).
    var stateProbe: QueueProcessProbe?

    struct Result {
        var rate: Double
        /// Worker CPU (user + system) per job, microseconds, first job to last.
        var cpuMicros: Double
        /// The same over the first ``CLIWorkerDrain/warmupJobs`` jobs, and over the rest; `nil` with no split.
        var warmupCPUMicros: Double?
        var steadyCPUMicros: Double?
        /// Voluntary context switches of the worker's threads per job: its wake-ups.
        var switchesPerJob: Double
        /// Resident set size at the end, MiB.
        var rssMiB: Double
        /// The broker's and the PostgreSQL server's CPU per job over the same interval, microseconds.
        var brokerMicros: Double?
        var serverMicros: Double?
        /// The queue process's state when the drain started, when read.
        var startState: QueueProcessState?

        /// Puts these figures in a round's report under `name`: the rate as a figure, the rest as notes
        /// (`NAME_cpu_us`, `NAME_warmup_cpu_us`, `NAME_steady_cpu_us`, `NAME_vcsw`, `NAME_rss_mib`, `NAME_broker_us`).
        func note(as name: String, warmupJobs: Int, figures: inout [String: Double], notes: inout [String: Double]) {
            figures[name] = rate
            notes["\(name)_cpu_us"] = cpuMicros
            if let warmupCPUMicros, let steadyCPUMicros {
                (notes["\(name)_warmup_cpu_us"], notes["\(name)_steady_cpu_us"]) = (warmupCPUMicros, steadyCPUMicros)
                notes["\(name)_warmup_jobs"] = Double(warmupJobs)
            }
            notes["\(name)_vcsw"] = switchesPerJob
            notes["\(name)_rss_mib"] = rssMiB
            if let brokerMicros { notes["\(name)_broker_us"] = brokerMicros }
            startState?.note(as: name, into: &notes)
        }
    }

    /// Queue name prefixes, the worker's and rawc's of equal length (also when paced). On RabbitMQ 3.10 the
    /// length of a queue's name moves where the queue process's collections fall while a backlog is
    /// published, and so whether the drain starts in the broker's dear state (docs/performance.md, "Which
    /// drains are dear is decided before they start"): with names 8 bytes apart, the worker's backlogs
    /// started dear in 19 rounds of 21 and rawc's of the same jobs in 6; with equal lengths, alike.
    static let queuePrefix = "record-cli", rawcQueuePrefix = "record-raw"
    static let pacedQueuePrefix = "paced-cli", rawcPacedQueuePrefix = "paced-raw"
    /// rawc's bare drains' queues (batch-filled and filled one message at a time), named as long as the above.
    static let rawcBareQueuePrefix = "bare-batch", rawcBareSpreadQueuePrefix = "bare-drips"

    /// A line of the record file: "<id> <attempt>\n" with fixed-width ids, unique per run (`run`: 8 characters).
    static func jobID(_ i: Int, run: Substring) -> String { "b-\(run)-" + String(format: "%08d", i) }
    static let lineBytes = jobID(0, run: "00000000").utf8.count + 3

    /// The arguments of job `i`: five fields, about 200 bytes.
    static func arguments(file: String, _ i: Int) -> [UInt8] {
        Array(#"{"file":"\#(file)","customer":"cus_\#(String(format: "%08d", i))","order":\#(100_000 + i),"#.utf8)
            + Array(#""amount_cents":\#(1999 + i % 1000),"note":"deliver to the side door after 6pm, ring twice","tags":["priority","gift"]}"#.utf8)
    }

    /// Runs the drain: with no `feed`, of ``count`` jobs enqueued before the worker starts; with one, of
    /// ``count`` jobs the feed publishes at its fixed rate once the worker consumes.
    func run(connection: AMQPConnection, logger: Logger, feed: PacedFeed? = nil) async throws -> Result {
        let name = Bench.uniqueQueue(feed == nil ? Self.queuePrefix : Self.pacedQueuePrefix)
        let topology = try declaredTopology(queue: name)
        let queue = topology.queue(named: name)
        let setup = try await connection.openChannel()
        try await topology.declare(on: setup)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warren-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("record.txt").path
        defer { try? FileManager.default.removeItem(at: dir) }
        if feed == nil {
            try await enqueueRecordJobs(connection: connection, topology: topology, queue: name, file: file)
            await Bench.settle()
        }
        let startState = feed == nil ? stateProbe?.read(queue: name) : nil

        let p = try startWorker(queue: name)
        defer {
            if p.isRunning { p.terminate() }
            p.waitUntilExit()
        }
        var feeding: Task<Void, any Error>?
        defer { feeding?.cancel() }
        if let feed {
            try await PacedFeed.waitForConsumer(name, on: setup)
            feeding = Task { [count] in try await feed.run(connection: connection, topology: topology, queue: name, file: file, count: count) }
        }
        let pid = p.processIdentifier
        let expected = count * Self.lineBytes
        let deadline = ContinuousClock.now + .seconds(300)
        var first: (ContinuousClock.Instant, Double, Double, SharedCPU)?
        // Jobs done and the worker's CPU once the warm-up's lines are written.
        var warm: (jobs: Int, cpu: Double)?
        let split = count >= 2 * warmupJobs
        while ContinuousClock.now < deadline {
            let size = Self.fileSize(file)
            let now = ContinuousClock.now
            if first == nil, size > 0 { first = (now, CPUTime.of(pid: pid) ?? .nan, Self.voluntarySwitches(pid: pid), shared()) }
            if split, warm == nil, size >= warmupJobs * Self.lineBytes, size < expected {
                warm = (size / Self.lineBytes, CPUTime.of(pid: pid) ?? .nan)
            }
            if size >= expected, let first {
                let (t0, cpu0, sw0, shared0) = first
                // The first line's job is inside the interval's start: count - 1 jobs ran in it.
                let jobs = Double(count - 1)
                let others = shared().perJob(since: shared0, jobs: jobs)
                let cpu1 = CPUTime.of(pid: pid) ?? .nan
                let sw1 = Self.voluntarySwitches(pid: pid)
                let rss = Self.residentMiB(pid: pid)
                let seconds = (now - t0).seconds
                p.terminate()
                p.waitUntilExit()
                try await feeding?.value
                await JobsBenchmark.cleanUp(queue, setup)
                return Result(rate: jobs / seconds, cpuMicros: (cpu1 - cpu0) * 1e6 / jobs,
                              warmupCPUMicros: warm.map { (w) in (w.cpu - cpu0) * 1e6 / Double(w.jobs - 1) },
                              steadyCPUMicros: warm.map { (w) in (cpu1 - w.cpu) * 1e6 / Double(count - w.jobs) },
                              switchesPerJob: (sw1 - sw0) / jobs, rssMiB: rss, brokerMicros: others.broker, serverMicros: others.server,
                              startState: startState)
            }
            guard p.isRunning else { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        await JobsBenchmark.cleanUp(queue, setup)
        throw BenchError("the CLI worker recorded \(Self.fileSize(file) / Self.lineBytes) of \(count) jobs")
    }

    /// Enqueues ``count`` `record` jobs for `queue` (in `topology`) with Warren's producer, with confirms:
    /// the messages both the CLI drain and ``fillPlainQueueWithRecordJobs(connection:)`` give their consumer.
    private func enqueueRecordJobs(connection: AMQPConnection, topology: Topology, queue: String, file: String) async throws {
        let producer = try await JobProducer(connection: connection, topology: topology)
        let run = UUID().uuidString.lowercased().prefix(8)
        let requests = (0..<count).map { i in
            JobRequest(name: "record", arguments: Self.arguments(file: file, i), options: EnqueueOptions(queue: queue, jobID: Self.jobID(i, run: run)))
        }
        var failed = 0
        if spread {
            for request in requests {
                do { _ = try await producer.enqueue(request) } catch { failed += 1 }
            }
        } else {
            failed = Bench.failures(await producer.enqueue(batch: requests))
        }
        await producer.channel.close()
        guard failed == 0 else { throw BenchError("\(failed) enqueues failed") }
    }

    /// A plain durable queue (no arguments, as `rawc drain` declares it) bound to Warren's work exchange,
    /// holding the same ``count`` `record` jobs as a CLI drain's queue (same producer, same bodies and
    /// properties; the file named in them is never written): what `rawc drain` drains for the C floor of
    /// these very messages. Returns the queue's name; the caller deletes it.
    func fillPlainQueueWithRecordJobs(connection: AMQPConnection) async throws -> String {
        let name = try await Self.declarePlainQueue(connection: connection, prefix: Self.rawcQueuePrefix)
        try await enqueueRecordJobs(connection: connection, topology: Topology(queues: [Topology.Queue(name)]), queue: name,
                                    file: Self.unwrittenFile)
        return name
    }

    /// `rawc drain` consuming ``count`` of the same `record` jobs from a plain queue that `feed` fills at its
    /// fixed rate once rawc consumes; rawc's own figures (its CPU is the caller's to read, as a child's).
    func rawcPaced(_ rawc: RawC, connection: AMQPConnection, feed: PacedFeed) async throws -> RawC.Result {
        let name = try await Self.declarePlainQueue(connection: connection, prefix: Self.rawcPacedQueuePrefix)
        let setup = try await connection.openChannel()
        let drain = Task { [count] in try await rawc.drain(queue: name, count: count, prefetch: 200) }
        do {
            try await PacedFeed.waitForConsumer(name, on: setup)
            try await feed.run(connection: connection, topology: Topology(queues: [Topology.Queue(name)]), queue: name,
                               file: Self.unwrittenFile, count: count)
        } catch {
            _ = try? await setup.deleteQueue(name)  // ends rawc's consumer, and so rawc
            _ = try? await drain.value
            await setup.close()
            throw error
        }
        let result = try await drain.value
        _ = try? await setup.deleteQueue(name)
        await setup.close()
        return result
    }

    /// A durable queue with no arguments (as `rawc drain` declares it), bound to Warren's work exchange.
    private static func declarePlainQueue(connection: AMQPConnection, prefix: String) async throws -> String {
        let name = Bench.uniqueQueue(prefix)
        let setup = try await connection.openChannel()
        do {
            _ = try await setup.declareQueue(name, durable: true, recordForRecovery: false)
            try await setup.bindQueue(name, exchange: WireFormat.workExchange, routingKey: name, recordForRecovery: false)
        } catch {
            await setup.close()
            throw error
        }
        await setup.close()
        return name
    }

    /// The file the jobs rawc consumes name: rawc never writes it.
    private static var unwrittenFile: String {
        FileManager.default.temporaryDirectory.appendingPathComponent("warren-bench-\(UUID().uuidString.prefix(8))/record.txt").path
    }

    /// The broker's and the local PostgreSQL server's CPU so far, where measured.
    private func shared() -> SharedCPU { SharedCPU.now(brokerPID: brokerPID, server: measureServer) }

    /// RSS of a `warren worker` (default flags) holding its full adaptive prefetch of 1 KiB jobs: `short`
    /// `noop` jobs first, so that the prefetch grows to its maximum, then `sleep` jobs of 10 minutes that
    /// fill the runners and the buffer. Read once the deliveries it holds stop growing; the worker is then
    /// killed (its deliveries go back to the queue, which is deleted).
    func heldRSS(connection: AMQPConnection, short: Int, held sleepers: Int) async throws -> (rssMiB: Double, held: Int) {
        let name = Bench.uniqueQueue("held")
        let topology = try declaredTopology(queue: name)
        let queue = topology.queue(named: name)
        let setup = try await connection.openChannel()
        try await topology.declare(on: setup)
        let pad = String(repeating: "x", count: 1000)
        let producer = try await JobProducer(connection: connection, topology: topology)
        let requests = (0..<short).map { _ in
            JobRequest(name: "noop", arguments: Array(#"{"pad":"\#(pad)"}"#.utf8), options: EnqueueOptions(queue: name))
        } + (0..<sleepers).map { _ in
            JobRequest(name: "sleep", arguments: Array(#"{"ms":600000,"pad":"\#(pad)"}"#.utf8), options: EnqueueOptions(queue: name))
        }
        let failed = Bench.failures(await producer.enqueue(batch: requests))
        await producer.channel.close()
        guard failed == 0 else { throw BenchError("\(failed) enqueues failed") }
        let p = try startWorker(queue: name)
        defer {
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
        }
        // Held = sleep jobs not ready in the queue (the short ones are done by then); stable for 2 s.
        var held = -1
        var stableSince = ContinuousClock.now
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            let ready = Int(try await setup.inspectQueue(name).messageCount)
            guard ready <= sleepers else { continue }
            let now = sleepers - ready
            if now != held { (held, stableSince) = (now, .now) }
            if held > concurrency, ContinuousClock.now - stableSince >= .seconds(2) { break }
        }
        let rss = Self.residentMiB(pid: p.processIdentifier)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        await JobsBenchmark.cleanUp(queue, setup)
        return (rss, held)
    }

    /// The topology `warren worker` declares for `queue` with the flags this drain gives it (the library's
    /// ``TopologySettings`` defaults, which the CLI's are, unless ``maxPriority`` is set).
    private func declaredTopology(queue: String) throws -> Topology {
        var settings = TopologySettings()
        settings.queues = [queue]
        if let maxPriority { settings.maxPriority = maxPriority }
        return try settings.topology()
    }

    /// Starts `warren worker --queue QUEUE --concurrency N` (plus `--max-priority` when ``maxPriority`` is
    /// set), nothing more (default flags otherwise).
    private func startWorker(queue: String) throws -> Process {
        let p = Process()
        p.executableURL = warren
        p.arguments = ["worker", "--queue", queue, "--concurrency", "\(concurrency)"] + (maxPriority.map { ["--max-priority", "\($0)"] } ?? [])
        var env = ProcessInfo.processInfo.environment
        env["WARREN_URL"] = url
        env["WARREN_LOG_LEVEL"] = "error"
        // Store off unless `environment` names one.
        (env["WARREN_STORE"], env["WARREN_STORE_FILE"]) = (nil, nil)
        // The topology as declared above: the defaults, not whatever the caller's environment says.
        for name in ["WARREN_MODE", "WARREN_MAX_PRIORITY", "WARREN_LANES", "WARREN_MAX_LENGTH"] { env[name] = nil }
        env.merge(environment) { _, new in new }
        p.environment = env
        try p.run()
        return p
    }

    static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Sum of `voluntary_ctxt_switches` over the threads of `pid` (/proc/PID/task/*/status).
    static func voluntarySwitches(pid: Int32) -> Double {
        let dir = "/proc/\(pid)/task"
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return .nan }
        var total = 0.0
        for t in tasks {
            guard let status = try? String(contentsOfFile: "\(dir)/\(t)/status", encoding: .utf8) else { continue }
            total += statusField(status, "voluntary_ctxt_switches:") ?? 0
        }
        return total
    }

    /// VmRSS of `pid`, MiB.
    static func residentMiB(pid: Int32) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return (statusField(status, "VmRSS:") ?? .nan) / 1024
    }

    static func statusField(_ status: String, _ key: String) -> Double? {
        status.split(separator: "\n").first { $0.hasPrefix(key) }?.split(whereSeparator: { $0 == " " || $0 == "\t" })
            .dropFirst().first.flatMap { Double($0) }
    }
}

extension CLIWorkerDrain {
    /// Medians over the rounds of CPU and wake-ups per job against rawc's per message.
    static func summary(_ report: BenchReport) -> String {
        func med(_ f: ([String: Double]) -> Double?) -> String {
            medianText(report.notes.compactMap(f), format: "%.2f")
        }
        func ratio(_ a: String, _ b: String) -> ([String: Double]) -> Double? {
            { n in n[a].flatMap { x in n[b].map { x / $0 } } }
        }
        return """
            CLI worker, default flags, record jobs (medians of rounds):
              CPU per job: \(med { $0["cli_record_cpu_us"] }) us vs rawc drain \(med { $0["rawc_drain_cpu_us"] }) us per message; ratio \(med(ratio("cli_record_cpu_us", "rawc_drain_cpu_us")))x (target <= 3x)
              the same split: the worker's first \(med { $0["cli_record_warmup_jobs"] }) jobs \(med { $0["cli_record_warmup_cpu_us"] }) us per job, the rest \(med { $0["cli_record_steady_cpu_us"] }) us; ratio of the rest \(med(ratio("cli_record_steady_cpu_us", "rawc_drain_cpu_us")))x (information)
              the same against rawc draining the same record jobs: \(med { $0["rawc_record_drain_cpu_us"] }) us per message; ratio \(med(ratio("cli_record_cpu_us", "rawc_record_drain_cpu_us")))x
              the broker's CPU per job: \(med { $0["cli_record_broker_us"] }) us vs \(med { $0["rawc_drain_broker_us"] }) us per message of rawc drain, \(med { $0["rawc_record_drain_broker_us"] }) us of rawc draining the same record jobs
              voluntary context switches per job: \(med { $0["cli_record_vcsw"] }) (rawc drain \(med { $0["rawc_drain_vcsw"] }), in-process noop drain \(med { $0["warren_drain_vcsw"] }))
              worker RSS at the end of the drain: \(med { $0["cli_record_rss_mib"] }) MiB
            \(QueueProcessState.summary(report, cli: "cli_record", bare: "rawc_drain", same: "rawc_record_drain"))
            """
    }

    /// Medians over the rounds of the cli-spread phase: the drains of backlogs published one message at a time.
    static func spreadSummary(_ report: BenchReport) -> String {
        func med(_ f: ([String: Double]) -> Double?) -> String {
            medianText(report.notes.compactMap(f), format: "%.2f")
        }
        return """
            CLI worker, default flags, record jobs, backlogs published one message at a time (medians of rounds):
              CPU per job: \(med { $0["cli_record_spread_cpu_us"] }) us vs rawc drain \(med { $0["rawc_drain_spread_cpu_us"] }) us per message, \(med { $0["rawc_record_drain_spread_cpu_us"] }) us of rawc draining the same record jobs
              the broker's CPU per job: \(med { $0["cli_record_spread_broker_us"] }) us vs \(med { $0["rawc_drain_spread_broker_us"] }) us per message of rawc drain, \(med { $0["rawc_record_drain_spread_broker_us"] }) us of rawc draining the same record jobs
            \(QueueProcessState.summary(report, cli: "cli_record_spread", bare: "rawc_drain_spread", same: "rawc_record_drain_spread"))
            """
    }

    /// Medians over the rounds of the paced phase: CPU and wake-ups per job of the CLI worker against rawc's
    /// per message, both fed the same jobs at the same fixed rate.
    static func pacedSummary(_ report: BenchReport) -> String {
        func med(_ f: ([String: Double]) -> Double?) -> String {
            medianText(report.notes.compactMap(f), format: "%.2f")
        }
        return """
            CLI worker, default flags, record jobs fed at a fixed \(med { $0["paced_rate"] }) jobs/s (paced phase, information; medians of rounds):
              CPU per job: \(med { $0["paced_cli_cpu_us"] }) us vs rawc drain \(med { $0["paced_rawc_cpu_us"] }) us per message of the same feed; ratio \(med { n in n["paced_cli_cpu_us"].flatMap { x in n["paced_rawc_cpu_us"].map { x / $0 } } })x
              the worker's CPU per job after its first \(med { $0["cli_record_warmup_jobs"] }) jobs: \(med { $0["paced_cli_steady_cpu_us"] }) us
              voluntary context switches per job: \(med { $0["paced_cli_vcsw"] }) (rawc \(med { $0["paced_rawc_vcsw"] }))
              the broker's CPU per job: \(med { $0["paced_cli_broker_us"] }) us vs \(med { $0["paced_rawc_broker_us"] }) us per message of rawc
            """
    }
}
