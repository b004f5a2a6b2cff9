import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Warren
import WarrenAMQP
import WarrenMetrics
import WarrenStore
import Synchronization

/// `warren worker`: runs the built-in reference jobs. Applications embed `Worker` in their own executable
/// instead (see Sources/WarrenExample).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker for the reference jobs (noop, sleep, fail, flaky, record, span, echo, iterate, progress, result, incr, add, tsum).",
        discussion: "With WARREN_STORE (or WARREN_STORE_FILE) set, every job's state is recorded in that job store.")

    @Option(name: .customLong("queue"), help: "Queue(s) to consume; repeat or comma-separate (env WARREN_QUEUES).")
    var queues: [String] = []

    @Option(help: "Jobs run at once (env WARREN_CONCURRENCY).")
    var concurrency: Int = Int(ProcessInfo.processInfo.environment["WARREN_CONCURRENCY"] ?? "") ?? 16

    @Option(help: "Prefetch per consumer, fixed; also the bound on jobs run twice after a kill (default: adaptive, from the concurrency up to 1,024 for short jobs; see docs/operations.md).")
    var prefetch: Int?

    @Option(help: "Seconds in-flight jobs get to finish on shutdown.")
    var grace: Double = 30

    @Option(help: "Largest message body in bytes.")
    var maxMessageBytes: Int = 1 << 20

    @Flag(help: "Also run Celery protocol 2 task messages (JSON) sent to these queues, and chords (celery.chord_unlock) with WARREN_STORE (see docs/wire-format.md).")
    var celery = false

    @Flag(help: "Also run ActiveJob jobs a Rails app enqueues with the Sneakers adapter; binds the queues to exchange 'sneakers' (env WARREN_ACTIVEJOB_EXCHANGE) (see docs/wire-format.md).")
    var activejob = false

    @Option(help: "Port for /metrics, /healthz and /readyz; 0 = off (env WARREN_METRICS_PORT).")
    var metricsPort: Int = Int(ProcessInfo.processInfo.environment["WARREN_METRICS_PORT"] ?? "") ?? 0

    @Option(name: .customLong("global-limit"), help: ArgumentHelp(
        "At most N of JOB running at once across all workers (JOB.FIELD=N: per value of argument FIELD); repeatable.",
        valueName: "JOB=N"))
    var globalLimits: [String] = []

    @Option(name: .customLong("rate-limit"), help: ArgumentHelp(
        "At most N starts of JOB per second/minute/hour across all workers, e.g. noop=200/s or mail=10/min:BURST; repeatable.",
        valueName: "JOB=N/s"))
    var rateLimits: [String] = []

    @OptionGroup var topologyOptions: TopologyOptions

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        CLILogging.bootstrap()
        let logger = Logger(label: "warren.worker")
        var registry = ReferenceJobs.registry()
        try registry.applyLimits(global: globalLimits, rate: rateLimits)
        let names = splitList(queues.isEmpty ? [ProcessInfo.processInfo.environment["WARREN_QUEUES"] ?? "default"] : queues)
        let topology = try topologyOptions.topology(queues: names)
        var config = WorkerConfiguration()
        config.queues = names
        config.concurrency = concurrency
        config.prefetch = prefetch
        config.shutdownGracePeriod = .milliseconds(Int64(grace * 1000))
        config.maxMessageBytes = maxMessageBytes
        if celery { config.foreignFormats.append(.celery) }
        if activejob {
            let exchange = ProcessInfo.processInfo.environment["WARREN_ACTIVEJOB_EXCHANGE"].flatMap { $0.isEmpty ? nil : $0 }
            config.foreignFormats.append(.activeJob(ActiveJobFormat(exchange: exchange ?? ActiveJobFormat.defaultExchange)))
        }
        config.releaseStartupPages = ProcessInfo.processInfo.environment["WARREN_RELEASE_STARTUP_PAGES"] != "0"
        let connection = try await BrokerEnvironment.connect(name: "warren-worker", logger: logger)
        let ops = metricsPort > 0 ? Operations(port: metricsPort, connection: connection,
                                               sampledQueues: topology.queueNames(delayLevels: false),
                                               metrics: .bootstrap(), logger: logger) : nil
        let store = try await StoreEnvironment.open(logger: logger)
        // Celery chords: the unlock reads the header tasks' states from the store (without one it dead-letters).
        if celery { CeleryChordUnlock.register(in: &registry, store: store) }
        // The store's tracker outermost (it records what the middlewares inside it decide), then batches
        // (their fan-in is in the store), then workflows.
        let tracker: [any JobMiddleware] = try store.map { [JobTracker(store: $0, configuration: try storeOptions.tracker(), logger: logger)] } ?? []
        let batches = BatchMiddleware(ledger: store?.batchLedger, connection: connection, topology: topology, logger: logger)
        let workflows = WorkflowMiddleware(connection: connection, topology: topology, ledger: store?.batchLedger, logger: logger)
        let middleware = tracker + [batches, workflows]
        // Announces this worker to dashboards (warren.presence) and counts its jobs, forwarding to the metrics.
        let presence = Announcer(connection: connection, role: .worker, queues: names, concurrency: concurrency,
                                 next: ops?.observer, logger: logger)
        let worker = Worker(connection: connection, registry: registry, topology: topology,
                            configuration: config, middleware: middleware, observer: presence, logger: logger)
        var services: [any Service] = [presence] + (ops?.services(around: worker, name: "worker") ?? [worker])
        if let store {
            services.append(StoreSweeper(store: store, policy: try storeOptions.policy(),
                                         interval: try StoreEnvironment.duration(storeOptions.storeSweepInterval), logger: logger))
        }
        try await runUntilSignalled(services: services, logger: logger)
        await store?.close()
        await connection.close()
    }
}

/// Runs services until SIGTERM or SIGINT starts a graceful shutdown. A second signal exits at once: what
/// was not acked yet is redelivered by the broker, so nothing is lost.
func runUntilSignalled(_ services: any Service..., logger: Logger) async throws {
    try await runUntilSignalled(services: services, logger: logger)
}

/// Runs `services` (in service-group order) until SIGTERM or SIGINT, as above.
func runUntilSignalled(services: [any Service], logger: Logger) async throws {
    SecondSignal.install(logger: logger)
    let group = ServiceGroup(configuration: .init(
        services: services.map { .init(service: $0) },
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    try await group.run()
}

enum SecondSignal {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    static let count = Atomic<Int>(0)

    static func install(logger: Logger) {
        for sig in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let n = count.add(1, ordering: .relaxed).newValue
                if n >= 2 {
                    logger.warning("second signal: exiting now; unacked jobs will be redelivered by the broker")
                    exit(0)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}
