// An application that embeds a Warren worker in its own executable: it defines its jobs, declares its
// topology, enqueues a few jobs and runs the worker until SIGTERM/SIGINT (graceful shutdown).
//
//   WARREN_URL=amqp://guest:guest@127.0.0.1:5672/%2F swift run WarrenExample
import Foundation
import Logging
import ServiceLifecycle
import Warren
import WarrenAMQP

/// A typed job: Codable arguments and a wire name.
struct SendWelcomeEmail: JobParameters {
    static let jobName = "send-welcome-email"
    var userID: Int
    var address: String
}

struct RebuildSearchIndex: JobParameters {
    static let jobName = "rebuild-search-index"
    var shard: Int
}

/// Thrown for input that no retry can fix: the job goes straight to the dead-letter queue.
struct InvalidAddress: NonRetryableError, CustomStringConvertible {
    var address: String
    var description: String { "invalid e-mail address '\(address)'" }
}

@main
struct ExampleApp {
    /// The main thread waits for `run()` instead of exiting (`MainThread`): a statically linked worker then
    /// starts some 50 ms of CPU cheaper. `static func main() async throws` works too.
    static func main() throws {
        try MainThread.run { try await run() }
    }

    static func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "example")
        let url = ProcessInfo.processInfo.environment["WARREN_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F"
        let connection = try await AMQPConnection.connect(url: url, logger: logger)

        // One description of the queues, shared by producers and workers.
        let topology = Topology(queues: [Topology.Queue("emails", maxPriority: 10), Topology.Queue("maintenance")])

        var jobs = JobRegistry()
        jobs.register(SendWelcomeEmail.self, retry: RetryPolicy(maxAttempts: 5), timeout: .seconds(30)) { args, context in
            guard args.address.contains("@") else { throw InvalidAddress(address: args.address) }
            context.logger.info("sending welcome e-mail", metadata: ["user": "\(args.userID)"])
            // Follow-up jobs carry this job's trace context.
            try await context.enqueue(RebuildSearchIndex(shard: args.userID % 4),
                                      options: EnqueueOptions(queue: "maintenance", delay: .seconds(1)))
        }
        jobs.register(RebuildSearchIndex.self, timeout: .seconds(300)) { args, context in
            context.logger.info("rebuilding shard", metadata: ["shard": "\(args.shard)"])
            try await Task.sleep(for: .milliseconds(200))  // long jobs should check cancellation
        }

        var config = WorkerConfiguration()
        config.queues = ["emails", "maintenance"]
        config.concurrency = 8
        let worker = Worker(connection: connection, registry: jobs, topology: topology, configuration: config, logger: logger)

        // Producers: confirmed enqueues.
        let setup = try await connection.openChannel()
        try await topology.declare(on: setup)
        await setup.close()
        let producer = try await JobProducer(connection: connection, topology: topology)
        try await producer.enqueue(SendWelcomeEmail(userID: 1, address: "ada@example.com"),
                                   options: EnqueueOptions(queue: "emails", priority: 9))
        try await producer.enqueue(SendWelcomeEmail(userID: 2, address: "not-an-address"),
                                   options: EnqueueOptions(queue: "emails"))

        let group = ServiceGroup(configuration: .init(
            services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await connection.close()
    }
}
