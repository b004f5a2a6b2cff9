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
///   long they take. At most ``WorkerConfiguration/concurrency`` run at once; the consumers' prefetch
///   matches it.
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

    /// Creates a worker; nothing happens until ``run()``.
    public init(connection: AMQPConnection, registry: JobRegistry, topology: Topology = Topology(),
                configuration: WorkerConfiguration = WorkerConfiguration(), observer: WorkerObserver? = nil,
                logger: Logger = Logger(label: "warren.worker")) {
        self.connection = connection
        self.registry = registry
        self.topology = topology
        self.configuration = configuration
        self.observer = observer
        self.logger = logger
    }

    /// Runs until graceful shutdown or task cancellation.
    public func run() async throws {
        let config = configuration
        let prefetch = UInt16(clamping: config.prefetch ?? config.concurrency)
        let consuming: AMQPChannel
        let producer: JobProducer
        do {
            consuming = try await connection.openChannel()
            try await consuming.qos(prefetchCount: prefetch)
            producer = try await JobProducer(connection: connection, topology: topology, maxMessageBytes: config.maxMessageBytes,
                                             observer: observer)
            if config.declareTopology {
                try await topology.declareShared(on: consuming)
                for name in config.queues { try await topology.declare(topology.queue(named: name), on: consuming) }
            }
        } catch let error as AMQPError {
            throw WarrenError(error, "starting the worker")
        }
        var sources: [DeliveryBuffer.Source] = []
        for name in config.queues {
            let q = topology.queue(named: name)
            for lane in (0..<q.lanes).reversed() { sources.append(.init(queue: q.lane(lane), baseQueue: q.name, lane: lane)) }
        }
        let buffer = DeliveryBuffer(sources: sources, selection: config.laneSelection)
        var started: [AMQPConsumer] = []
        for source in sources {
            do {
                started.append(try await consuming.consume(queue: source.queue))
            } catch {
                throw WarrenError(error, "consuming '\(source.queue)'")
            }
        }
        let consumers = started
        logger.info("worker started", metadata: [
            "queues": "\(sources.map(\.queue))", "concurrency": "\(config.concurrency)", "prefetch": "\(prefetch)",
            "jobs": "\(registry.names)",
        ])
        observer?.consumingChanged(true)
        let processor = JobProcessor(worker: self, producer: producer)
        let slots = AsyncSlots(config.concurrency)
        let inFlight = InFlightJobs()

        let feeders = Task {
            await withTaskGroup(of: Void.self) { group in
                for (index, consumer) in consumers.enumerated() {
                    group.addTask {
                        do {
                            for try await delivery in consumer { buffer.push(delivery, source: index) }
                        } catch {
                            self.logger.error("consumer ended", metadata: ["queue": "\(consumer.queue)", "error": "\(error)"])
                        }
                        buffer.finish(source: index)
                    }
                }
            }
        }

        let observer = self.observer
        let shutdown = { @Sendable in
            observer?.consumingChanged(false)
            buffer.stop()
            slots.close()
            Task { for c in consumers { await c.cancel() } }
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                while await slots.acquire() {
                    guard let item = await buffer.next() else {
                        slots.release()
                        break
                    }
                    inFlight.started()
                    Task {
                        await processor.process(item)
                        inFlight.finished()
                        slots.release()
                    }
                }
            } onCancel: { shutdown() }
        } onGracefulShutdown: {
            self.logger.info("graceful shutdown: no new jobs; waiting for in-flight ones", metadata: ["grace": "\(config.shutdownGracePeriod)"])
            shutdown()
        }
        for c in consumers { await c.cancel() }
        // Let running jobs finish within the grace period, then cancel them; their deliveries stay unacked.
        if await !inFlight.waitUntilIdle(timeout: config.shutdownGracePeriod) {
            logger.warning("grace period over: cancelling in-flight jobs; the broker will redeliver them",
                           metadata: ["jobs": "\(inFlight.count)"])
            attempts.cancelAll()
            _ = await inFlight.waitUntilIdle(timeout: .seconds(2))
        }
        feeders.cancel()
        attempts.stop()
        await consuming.close()  // unacked deliveries (buffered, or of cancelled jobs) go back to the queues
        await producer.channel.close()
        logger.info("worker stopped")
    }
}

/// Counts jobs in flight and lets shutdown wait for them.
final class InFlightJobs: Sendable {
    private let state = Mutex<Int>(0)

    var count: Int { state.withLock { $0 } }
    func started() { state.withLock { $0 += 1 } }
    func finished() { state.withLock { $0 -= 1 } }

    /// Waits until no job is in flight, or `timeout`; returns whether it became idle.
    func waitUntilIdle(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while count > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return count == 0
    }
}
