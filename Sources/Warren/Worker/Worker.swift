import Foundation
import Synchronization
import Logging
import ServiceLifecycle
import WarrenAMQP

/// Consumes work queues and runs registered jobs, at least once.
///
/// - A delivery is acked only after its job finished, or after its retry or dead letter was confirmed by
///   the broker: killed at any point, the worker loses nothing (the broker redelivers what was unacked).
/// - Jobs run as Swift tasks, never on the connection's I/O thread, which keeps heartbeats flowing however
///   long they take. At most ``WorkerConfiguration/concurrency`` run at once. The consumers' prefetch is
///   ``WorkerConfiguration/prefetch`` when set, else adapted to the jobs' run time (``AdaptivePrefetch``).
/// - Shutdown (ServiceLifecycle graceful shutdown, e.g. SIGTERM): consumers are cancelled, in-flight jobs
///   get ``WorkerConfiguration/shutdownGracePeriod`` to finish, then are cancelled; everything not acked by
///   then is left to the broker to redeliver, and ``run()`` returns normally.
public final class Worker: Service, Sendable {
    let connection: AMQPConnection
    let registry: JobRegistry
    let topology: Topology
    let configuration: WorkerConfiguration
    let logger: Logger
    let attempts = AttemptRunner()
    let observer: WorkerObserver?
    let middleware: [any JobMiddleware]

    /// Creates a worker; nothing happens until ``run()``.
    ///
    /// - Parameter middleware: surrounds every attempt, the first outermost (see ``JobMiddleware``). The
    ///   worker's own trace-context middleware runs outside them all.
    public init(connection: AMQPConnection, registry: JobRegistry, topology: Topology = Topology(),
                configuration: WorkerConfiguration = WorkerConfiguration(), middleware: [any JobMiddleware] = [],
                observer: WorkerObserver? = nil, logger: Logger = Logger(label: "warren.worker")) {
        self.connection = connection
        self.registry = registry
        self.topology = topology
        self.configuration = configuration
        self.middleware = middleware
        self.observer = observer
        self.logger = logger
    }

    /// Runs until graceful shutdown or task cancellation.
    public func run() async throws {
        let config = configuration
        let limitedAcross = registry.names.contains { registry[$0]?.globalLimit != nil || registry[$0]?.rateLimit != nil }
        // Jobs waiting for a limit across workers hold a prefetch place, not a runner: start with room for them.
        let prefetch = max(1, min(Int(UInt16.max), config.prefetch ?? (limitedAcross ? 2 * config.concurrency : config.concurrency)))
        let consuming: AMQPChannel
        let producer: JobProducer
        do {
            consuming = try await connection.openChannel()
            producer = try await JobProducer(connection: connection, topology: topology, maxMessageBytes: config.maxMessageBytes,
                                             observer: observer)
            if config.declareTopology {
                try await topology.declareShared(on: consuming)
                for name in config.queues { try await topology.declare(topology.queue(named: name), on: consuming) }
                for format in config.foreignFormats { try await format.bind(config.queues, on: consuming) }
            }
        } catch let error as AMQPError where error.replyCode == 406 && error.replyText?.contains("inequivalent arg") == true {
            throw WarrenError(error, "starting the worker: a queue exists with other arguments than this topology's; "
                              + "`warren topology migrate` re-declares it keeping its jobs (docs/operations.md)")
        } catch let error as AMQPError {
            throw WarrenError(error, "starting the worker")
        }
        var sources: [DeliveryBuffer.Source] = []
        for name in config.queues {
            let q = topology.queue(named: name)
            for lane in (0..<q.lanes).reversed() { sources.append(.init(queue: q.lane(lane), baseQueue: q.name, lane: lane)) }
        }
        let buffer = DeliveryBuffer(sources: sources, selection: config.laneSelection)
        let logger = self.logger
        let consumers = WorkerConsumers(channel: consuming, sources: sources, buffer: buffer, logger: logger)
        try await consumers.start(prefetch: prefetch)
        logger.info("worker started", metadata: [
            "queues": "\(sources.map(\.queue))", "concurrency": "\(config.concurrency)",
            "prefetch": "\(config.prefetch == nil ? "adaptive, from \(prefetch)" : "\(prefetch)")",
            "jobs": "\(registry.names)",
        ])
        observer?.consumingChanged(true)
        if config.releaseStartupPages {
            let bytes = StartupPages.release()
            logger.debug("released start-up pages", metadata: ["bytes": "\(bytes)"])
        }
        let limits = JobLimits(registry)
        let parking = LeaseParking.make(registry, connection: connection, mode: topology.mode, buffer: buffer, logger: logger)
        let processor = JobProcessor(
            registry: registry, decision: JobDecision(maxMessageBytes: config.maxMessageBytes, defaultRetry: config.defaultRetry),
            formats: config.foreignFormats, middleware: MiddlewareChain(middlewares: [TraceContextMiddleware()] + middleware),
            settlement: Settlement(producer: producer, topology: topology, hostname: config.hostname, logger: logger),
            attempts: attempts, limits: limits, parking: parking, defaultTimeout: config.defaultTimeout, observer: observer, logger: logger)

        let meter = RunTimeMeter()
        attempts.onEachTick { buffer.kickIfStalled() }
        JobRunners(buffer: buffer, processor: processor, meter: meter).start(count: config.concurrency)
        let tuner = Task {
            guard config.prefetch == nil else { return }
            await PrefetchTuner(rule: config.adaptivePrefetch, concurrency: config.concurrency, meter: meter,
                                consumers: consumers, logger: logger).run(from: prefetch)
        }

        let observer = self.observer
        let shutdown = { @Sendable in
            observer?.consumingChanged(false)
            limits.close()  // first: a job waiting for a place starts no more
            parking?.stopWaiting()
            buffer.stop()
            tuner.cancel()
            Task { await consumers.stop() }
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await buffer.waitUntilEnded()
            } onCancel: { shutdown() }
        } onGracefulShutdown: {
            self.logger.info("graceful shutdown: no new jobs; waiting for in-flight ones", metadata: ["grace": "\(config.shutdownGracePeriod)"])
            shutdown()
        }
        tuner.cancel()
        await tuner.value
        await consumers.stop()
        // Let running jobs finish within the grace period, then cancel them; their deliveries stay unacked.
        if await !buffer.waitUntilIdle(timeout: config.shutdownGracePeriod) {
            logger.warning("grace period over: cancelling in-flight jobs; the broker will redeliver them",
                           metadata: ["jobs": "\(buffer.running)"])
            attempts.cancelAll()
            _ = await buffer.waitUntilIdle(timeout: .seconds(2))
        }
        attempts.stop()
        await parking?.close()  // leases still held go back
        await consuming.close()  // unacked deliveries (buffered, or of cancelled jobs) go back to the queues
        await producer.channel.close()
        logger.info("worker stopped")
    }
}
