import Foundation
import Logging
import ServiceLifecycle
import Warren
import WarrenAMQP
import XCTest
import WarrenTestSupport

/// Broker access for the jobs tests (scripts/test.sh exports WARREN_TEST_URL).
enum JobsBroker {
    static var url: String { ProcessInfo.processInfo.environment["WARREN_TEST_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F" }

    static func connect(vhost: String? = nil) async throws -> AMQPConnection {
        var c = try AMQPConfiguration(url: url)
        c.connectionName = "warren-jobs-tests"
        if let vhost { c.virtualHost = vhost }
        return try await AMQPConnection.connect(c)
    }

    /// The broker's pids of the connections named `name`, through the project's wrapper
    /// (`WARREN_RABBITMQCTL`, default `deploy/rabbitmq-local.sh ctl`).
    static func connectionPIDs(named name: String) throws -> [String] {
        // RabbitMQ 3.10 has no user_provided_name column: find the name among the client properties.
        let listing = try BrokerControl.rabbitmqctl(["list_connections", "-q", "pid", "client_properties"])
        return listing.split(separator: "\n").filter { $0.contains("\"\(name)\"") }.compactMap { line in
            line.split(separator: "\t").first.map(String.init)
        }
    }

    /// Makes the broker close every connection named `name` (`rabbitmqctl close_connection`). Returns how many.
    static func closeConnections(named name: String) throws -> Int {
        let pids = try connectionPIDs(named: name)
        for pid in pids { try BrokerControl.rabbitmqctl(["close_connection", pid, "closed by a test"]) }
        return pids.count
    }

    static func uniqueQueue(_ prefix: String) -> String { "jt.\(prefix).\(UUID().uuidString.prefix(8).lowercased())" }

    /// Deletes a work queue with its lanes and dead-letter queue.
    static func cleanUp(_ queue: Topology.Queue, on connection: AMQPConnection) async {
        guard let ch = try? await connection.openChannel() else { return }
        for name in queue.queueNames { _ = try? await ch.deleteQueue(name) }
        await ch.close()
    }
}

/// Thread-safe record of what jobs did, for assertions.
actor JobLog {
    struct Entry: Sendable {
        let name: String
        let id: String
        let attempt: Int
        let note: String
        let at: Date
    }

    private(set) var entries: [Entry] = []

    func add(_ name: String, _ context: JobContext, note: String = "") {
        entries.append(Entry(name: name, id: context.jobID, attempt: context.attempt, note: note, at: Date()))
    }

    func count(_ name: String) -> Int { entries.filter { $0.name == name }.count }

    /// The note of job `id`'s first run.
    func note(_ id: String) -> String? { entries.first { $0.id == id }?.note }

    /// When job `id` first ran.
    func ranAt(_ id: String) -> Date? { entries.first { $0.id == id }?.at }

    /// The attempts job `id` ran, in order.
    func attempts(_ id: String) -> [Int] { entries.filter { $0.id == id }.map(\.attempt) }

    /// Whether any of the jobs `ids` ran.
    func ranAny(_ ids: Set<String>) -> Bool { entries.contains { ids.contains($0.id) } }

    /// Two jobs logging into `log` as they end: `quick` at once, `block` once `gate` opens (to hold runners).
    static func quickAndBlockingJobs(log: JobLog, gate: Gate) -> JobRegistry {
        var registry = JobRegistry()
        registry.register(name: "quick") { _, context in await log.add("quick", context) }
        registry.register(name: "block") { _, context in
            await gate.wait()
            await log.add("block", context)
        }
        return registry
    }

    /// Waits until `condition` holds on the entries, up to `timeout` seconds.
    func wait(timeout: Double = 15, _ condition: @Sendable ([Entry]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if condition(entries) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(entries)
    }
}

/// A Worker running in the background, stoppable like a SIGTERM would.
struct RunningWorker {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(_ worker: Worker) -> RunningWorker {
        var logger = Logger(label: "test.worker")
        logger.logLevel = .critical
        let group = ServiceGroup(configuration: .init(services: [.init(service: worker)], logger: logger))
        return RunningWorker(group: group, task: Task { try await group.run() })
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

func quietLogger(_ label: String) -> Logger {
    var l = Logger(label: label)
    l.logLevel = ProcessInfo.processInfo.environment["WARREN_TEST_LOG"] != nil ? .debug : .critical
    return l
}

/// Polls `condition` every 50 ms for up to `timeout` seconds.
func eventually(timeout: Double = 15, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () async throws -> Bool) async throws {
    try await BrokerControl.poll(timeout: timeout, file: file, line: line, condition)
}

/// Takes every message currently in `queue` (acked), decoded leniently.
func drain(_ queue: String, on channel: AMQPChannel) async throws -> [AMQPDelivery] {
    var out: [AMQPDelivery] = []
    while let d = try await channel.get(queue: queue) {
        try await d.ack()
        out.append(d)
    }
    return out
}

/// Declares a topology before producers and workers use it (a passive probe on a missing queue would
/// close the probing channel with 404).
func declare(_ topology: Topology, on connection: AMQPConnection) async throws {
    let ch = try await connection.openChannel()
    try await topology.declare(on: ch)
    await ch.close()
}

/// Declares `topology`, starts a worker on all its queues with `registry` (and whatever `configure` sets),
/// and opens a producer for it.
func startWorker(_ connection: AMQPConnection, _ topology: Topology, _ registry: JobRegistry,
                 middleware: [any JobMiddleware] = [],
                 _ configure: (inout WorkerConfiguration) -> Void = { _ in }) async throws -> (RunningWorker, JobProducer) {
    try await declare(topology, on: connection)
    var config = WorkerConfiguration()
    config.queues = topology.queues.map(\.name)
    configure(&config)
    let worker = Worker(connection: connection, registry: registry, topology: topology, configuration: config,
                        middleware: middleware, logger: quietLogger("test.worker"))
    return (RunningWorker.start(worker), try await JobProducer(connection: connection, topology: topology))
}
