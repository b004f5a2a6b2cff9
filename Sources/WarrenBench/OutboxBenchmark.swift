import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Warren
import WarrenAMQP
import WarrenStore

/// `warren-bench outbox`: transactional enqueue on PostgreSQL (``PostgresOutbox``, ``OutboxRelay``).
/// - Latency: with a relay running, `latencyJobs` jobs are each enqueued in a transaction of their own, one
///   every `interval`; for each, the time from its commit returning to its arrival at a consumer of the work
///   queue (after the relay's publish was confirmed, so an upper bound of commit -> confirmed). p50/p99.
/// - Throughput: `count` jobs committed to the outbox (100 per transaction) while no relay runs; then a relay
///   starts and the time until the work queue holds them all (start-up included) gives its rate, against a
///   direct `enqueue(batch:)` of `count` jobs in the same round. Rounds alternate which goes first.
struct OutboxBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "outbox", abstract: "Transactional enqueue: commit-to-queue latency, relay rate vs direct enqueue.")

    @OptionGroup var broker: BrokerOptions
    @Option(help: "Jobs per throughput measure.") var count = 20_000
    @Option(help: "Rounds of the throughput measure (medians are reported).") var rounds = 3
    @Option(help: "Jobs of the latency measure, one transaction each.") var latencyJobs = 500
    @Option(help: "Pause between two latency jobs, milliseconds.") var interval = 5
    @OptionGroup var postgres: PostgresOptions

    func run() async throws {
        var logger = Logger(label: "bench.outbox")
        logger.logLevel = .error
        let url = try postgres.requiredURL()
        guard case .postgres(let host, let port, let user, let password, let database) = url else {
            throw ValidationError("not a PostgreSQL URL in \(postgres.postgresURLFile)")
        }
        let store = try await url.open(logger: logger)  // creates the schema (outbox table included)
        await store.close()
        let client = PostgresClient(configuration: .init(host: host, port: port, username: user, password: password,
                                                         database: database, tls: .disable), backgroundLogger: logger)
        let clientTask = Task { await client.run() }
        defer { clientTask.cancel() }
        let connection = try await AMQPConnection.connect(url: broker.resolvedURL, logger: logger)
        let bench = Run(client: client, connection: connection, url: url, logger: logger)

        Bench.progress("latency: \(latencyJobs) jobs, one transaction each, every \(interval) ms")
        let latency = try await bench.latency(jobs: latencyJobs, every: .milliseconds(interval))
        print(String(format: "commit -> in the work queue, %d jobs one per transaction: p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 <= 50 ms)",
                     latencyJobs, latency.p50, latency.p99, latency.max))

        var relayRates: [Double] = []
        var directRates: [Double] = []
        for round in 1...rounds {
            Bench.progress("throughput round \(round)/\(rounds)")
            for relayFirst in round % 2 == 1 ? [true, false] : [false, true] {
                if relayFirst {
                    relayRates.append(try await bench.relayRate(count: count))
                } else {
                    directRates.append(try await bench.directRate(count: count))
                }
            }
            print(String(format: "round %d: relay %.0f jobs/s, direct enqueue(batch:) %.0f jobs/s", round, relayRates.last!, directRates.last!))
        }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let ratios = zip(relayRates, directRates).map { $0 / $1 }
        print(String(format: "outbox relay: %.0f jobs/s vs direct %.0f jobs/s (medians of %d); relay/direct per round median %.2fx (target >= 0.5x)",
                     median(relayRates), median(directRates), rounds, median(ratios)))
        await connection.close()
    }

    /// One benchmark run's connections.
    struct Run {
        let client: PostgresClient
        let connection: AMQPConnection
        let url: StoreURL
        let logger: Logger

        /// A new queue with a unique name, declared on a channel of its own (returned for inspection and clean-up).
        func declaredQueue(_ prefix: String) async throws -> (Topology.Queue, Topology, AMQPChannel) {
            let queue = Topology.Queue(Bench.uniqueQueue(prefix))
            let topology = Topology(queues: [queue])
            let setup = try await connection.openChannel()
            try await topology.declare(on: setup)
            return (queue, topology, setup)
        }

        /// Starts a relay for `topology` (a lock of its own) and returns its service group's task.
        func startRelay(_ topology: Topology) throws -> (ServiceGroup, Task<Void, any Error>) {
            let relay = try OutboxRelay(url: url, connection: connection, topology: topology,
                                        lockQueue: "warren.outbox.lock.bench.\(UUID().uuidString.prefix(8))", logger: logger)
            let group = ServiceGroup(configuration: .init(services: [.init(service: relay)], logger: logger))
            return (group, Task { try await group.run() })
        }

        func latency(jobs: Int, every pause: Duration) async throws -> (p50: Double, p99: Double, max: Double) {
            let (queue, topology, setup) = try await declaredQueue("outbox.late")
            let committed = Mutex<[String: ContinuousClock.Instant]>([:])
            let arrived = Mutex<[String: ContinuousClock.Instant]>([:])
            let consumer = try await setup.consume(queue: queue.name, noAck: true) { event in
                if case .delivery(let d) = event, let id = d.properties.messageID {
                    let now = ContinuousClock.now
                    arrived.withLock { $0[id] = now }
                }
            }
            let (group, task) = try startRelay(topology)
            let producer = try await JobProducer(connection: connection, topology: topology)
            try await Task.sleep(for: .milliseconds(500))  // the relay leads and listens
            for i in 0..<jobs {
                let request = JobRequest(name: "noop", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue.name, jobID: "late-\(i)"))
                try await client.withTransaction(logger: logger) { tx in _ = try await producer.enqueue(request, in: tx) }
                let now = ContinuousClock.now
                committed.withLock { $0["late-\(i)"] = now }
                try await Task.sleep(for: pause)
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while arrived.withLock({ $0.count }) < jobs && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            await consumer.cancel()
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            await producer.channel.close()
            await JobsBenchmark.cleanUp(queue, setup)
            let times = committed.withLock { $0 }
            let samples = arrived.withLock { $0 }.compactMap { id, t in times[id].map { (t - $0).seconds * 1000 } }.sorted()
            guard samples.count == jobs else { throw BenchError("\(samples.count) of \(jobs) outbox jobs arrived") }
            func pct(_ p: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
            return (pct(0.5), pct(0.99), samples.last!)
        }

        /// Commits `count` jobs into the outbox with no relay running, then times a relay emptying it into a queue.
        func relayRate(count: Int) async throws -> Double {
            let (queue, topology, setup) = try await declaredQueue("outbox.relay")
            let producer = try await JobProducer(connection: connection, topology: topology)
            var start = 0
            while start < count {
                let n = min(100, count - start)
                let first = start
                try await client.withTransaction(logger: logger) { tx in
                    for _ in first..<(first + n) {
                        let request = JobRequest(name: "noop", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue.name))
                        _ = try await producer.enqueue(request, in: tx)
                    }
                }
                start += n
            }
            await producer.channel.close()
            let started = ContinuousClock.now
            let (group, task) = try startRelay(topology)
            let deadline = started + .seconds(300)
            while try await setup.inspectQueue(queue.name).messageCount < count && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let seconds = (ContinuousClock.now - started).seconds
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            let held = Int(try await setup.inspectQueue(queue.name).messageCount)
            await JobsBenchmark.cleanUp(queue, setup)
            guard held >= count else { throw BenchError("the relay published \(held) of \(count) jobs") }
            return Double(count) / seconds
        }

        /// Times `count` jobs enqueued directly with `enqueue(batch:)`.
        func directRate(count: Int) async throws -> Double {
            let (queue, topology, setup) = try await declaredQueue("outbox.direct")
            let producer = try await JobProducer(connection: connection, topology: topology)
            let requests = (0..<count).map { _ in JobRequest(name: "noop", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue.name)) }
            let started = ContinuousClock.now
            let failed = Bench.failures(await producer.enqueue(batch: requests))
            let seconds = (ContinuousClock.now - started).seconds
            await producer.channel.close()
            await JobsBenchmark.cleanUp(queue, setup)
            guard failed == 0 else { throw BenchError("\(failed) direct enqueues failed") }
            return Double(count) / seconds
        }
    }
}
