import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP

/// `warren dlq`: operate dead-letter queues (stats, list, show, requeue, purge, export, import).
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, requeue, purge, export and import dead-letter queues.",
        discussion: """
            Queues: --queue (repeatable, comma-separated; work queue names or their '<queue>.dead' names), else
            WARREN_QUEUES, else 'default'. AMQP cannot list queues, so "all dead-letter queues" means all of
            these that exist. Browsing returns every message to its place (see docs/dead-letters.md).
            """,
        subcommands: [DLQStatsCommand.self, DLQListCommand.self, DLQShowCommand.self, DLQRequeueCommand.self,
                      DLQPurgeCommand.self, DLQExportCommand.self, DLQImportCommand.self]
    )
}

/// Which dead-letter queues a subcommand works on, and whether it prints JSON.
struct DLQQueueOptions: ParsableArguments {
    @Option(name: .customLong("queue"), help: "Work queue (or '<queue>.dead'); repeat or comma-separate (env WARREN_QUEUES).")
    var queues: [String] = []

    @Flag(help: "Print JSON (one document, or JSON Lines for message lists) instead of tables.")
    var json = false

    /// The dead-letter queue names asked for (or with `exact`, the names as given), and whether they were named explicitly.
    func requested(exact: Bool = false) -> (names: [String], explicit: Bool) {
        if !queues.isEmpty { return (splitList(queues).map { exact ? $0 : DeadLetterQueues.deadLetterQueue(for: $0) }, true) }
        let env = ProcessInfo.processInfo.environment["WARREN_QUEUES"] ?? "default"
        return (splitList([env]).map(DeadLetterQueues.deadLetterQueue(for:)), false)
    }

    /// The requested dead-letter queues that exist. Explicitly named ones must exist.
    func resolve(on connection: AMQPConnection, exact: Bool = false) async throws -> [QueueInfo] {
        let (names, explicit) = requested(exact: exact)
        let found = try await DeadLetterQueues.existing(names, on: connection, exact: exact)
        let missing = names.filter { name in !found.contains { $0.name == name } }
        if explicit, !missing.isEmpty { throw DLQFailure("no such queue: \(missing.joined(separator: ", "))") }
        return found
    }
}

/// The selection options shared by list, requeue, purge and export.
struct DLQFilterOptions: ParsableArguments {
    @Option(help: "Only this job name (repeatable).")
    var job: [String] = []

    @Option(help: "Only this error type (repeatable).")
    var errorType: [String] = []

    @Option(name: .customLong("error"), help: "Only errors whose type or message matches this regular expression (case-insensitive).")
    var errorPattern: String?

    @Option(help: "Only this dead-letter reason (exhausted, non-retryable, undecodable, unknown-job, ...; repeatable).")
    var reason: [String] = []

    @Option(help: "Only jobs that failed before this time: ISO-8601 (2024-05-01, 2024-05-01T12:00:00Z) or an age (2h, 3d).")
    var failedBefore: String?

    @Option(help: "Only jobs that failed at or after this time (same forms).")
    var failedAfter: String?

    @Option(help: "Only jobs with at least this many attempts.")
    var minAttempts: Int?

    @Option(help: "Only jobs with at most this many attempts.")
    var maxAttempts: Int?

    @Option(help: "At most this many messages (per queue).")
    var limit: Int?

    /// The filter, with `ids` added.
    func filter(ids: [String] = []) throws -> DeadLetterFilter {
        let f = DeadLetterFilter(
            ids: Set(ids), jobs: Set(splitList(job)), errorTypes: Set(splitList(errorType)), reasons: Set(splitList(reason)),
            errorPattern: errorPattern, failedBefore: try failedBefore.map(Self.time), failedAfter: try failedAfter.map(Self.time),
            minAttempts: minAttempts, maxAttempts: maxAttempts)
        try f.validate()
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        return f
    }

    /// Whether any selection option was given.
    var selects: Bool { (try? filter().isEmpty) == false }

    /// An ISO-8601 date or date-time, or an age ("2h" = two hours ago).
    static func time(_ text: String) throws -> Date { try DeadLetterFilter.time(text) }
}

/// Connecting for dead-letter work, through the library's rule (``DeadLetterQueues/connect(_:logger:)``:
/// no automatic recovery).
enum DLQConnection {
    static func open(_ command: String) async throws -> AMQPConnection {
        CLILogging.bootstrap()
        var logger = Logger(label: "warren.dlq")
        if ProcessInfo.processInfo.environment["WARREN_LOG_LEVEL"] == nil { logger.logLevel = .error }  // output is for people and scripts
        return try await DeadLetterQueues.connect(try BrokerEnvironment.configuration(name: "warren-dlq-\(command)"), logger: logger)
    }

    /// Runs `body` with a connection, closing it afterwards.
    static func with<T>(_ command: String, _ body: (AMQPConnection) async throws -> T) async throws -> T {
        try await open(command).closing(after: body)
    }
}

/// A failure to report without the usage text.
struct DLQFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
