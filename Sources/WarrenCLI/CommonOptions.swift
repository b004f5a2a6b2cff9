import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP

/// How queues are declared; producers and workers must agree, so both read the same flags and environment.
/// The environment and its rules are the library's ``TopologySettings``; flags override it.
struct TopologyOptions: ParsableArguments {
    @Option(help: "Queue type: classic or quorum (env WARREN_MODE, default classic).")
    var mode: String?

    @Option(help: "x-max-priority of classic work queues, 0 for none (env WARREN_MAX_PRIORITY, default 0; a queue that exists with a priority keeps it).")
    var maxPriority: Int?

    @Option(help: "Priority lanes per queue, 1 for none (env WARREN_LANES, default 1).")
    var lanes: Int?

    @Option(name: .customLong("external-queue"), help: ArgumentHelp(
        "Queue declared by another system with no arguments (e.g. Celery's 'celery'); repeatable (env WARREN_EXTERNAL_QUEUES).",
        valueName: "name"))
    var externalQueues: [String] = []

    @Option(help: "Most jobs ready per work queue (x-max-length, x-overflow=reject-publish); enqueues beyond it fail with queueFull (env WARREN_MAX_LENGTH).")
    var maxLength: Int?

    @Option(help: "x-queue-mode of classic work queues: lazy or default (env WARREN_QUEUE_MODE, default default; lazy for queues that take large backlogs; a queue that exists in the other mode keeps it).")
    var queueMode: String?

    /// The environment's settings with the flags applied; `queues` (repeated or comma-separated) replace
    /// `WARREN_QUEUES` when not empty.
    func settings(queues: [String] = []) throws -> TopologySettings {
        var s = try TopologySettings(environment: ProcessInfo.processInfo.environment)
        if let mode {
            guard let m = Topology.Mode(rawValue: mode) else { throw ValidationError("--mode must be classic or quorum") }
            s.mode = m
        }
        if let maxPriority { s.maxPriority = maxPriority }
        if let lanes { s.lanes = lanes }
        if !externalQueues.isEmpty { s.externalQueues = splitList(externalQueues) }
        if let maxLength { s.maxLength = maxLength }
        if let queueMode {
            guard let m = Topology.ClassicQueueMode(rawValue: queueMode) else { throw ValidationError("--queue-mode must be lazy or default") }
            s.classicQueueMode = m
        }
        if !queues.isEmpty { s.queues = splitList(queues) }
        return s
    }

    /// The topology of exactly these work queues.
    func topology(queues: [String]) throws -> Topology {
        var s = try settings()
        s.queues = queues
        return try s.topology()
    }

    /// The topology of the queues the `--queue` options name, else of `WARREN_QUEUES`, else of `default`.
    func topology(selecting queues: [String]) throws -> Topology {
        try settings(queues: queues).topology()
    }
}

/// Logging set-up shared by every command: level from `WARREN_LOG_LEVEL`, format from `WARREN_LOG_FORMAT`.
enum CLILogging {
    static func bootstrap(json: Bool? = nil) {
        let env = ProcessInfo.processInfo.environment
        let level = env["WARREN_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let useJSON = json ?? (env["WARREN_LOG_FORMAT"] == "json")
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = useJSON ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Splits repeated and comma-separated list options (the library's rule).
func splitList(_ values: [String]) -> [String] { BrokerEnvironment.list(values) }

/// The limits `warren status` and `warren dashboard` show, as given to the workers.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("global-limit"), help: ArgumentHelp("Also show this global limit (as given to the workers); repeatable.", valueName: "JOB=N"))
    var global: [String] = []

    @Option(name: .customLong("rate-limit"), help: ArgumentHelp("Also show this rate limit (as given to the workers); repeatable.", valueName: "JOB=N/s"))
    var rate: [String] = []
}
