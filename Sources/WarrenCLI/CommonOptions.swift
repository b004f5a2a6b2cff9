import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP

/// Broker connection settings, read from the environment only (secrets never go to argv or logs).
enum BrokerEnvironment {
    static let defaultURL = "amqp://guest:guest@127.0.0.1:5672/%2F"

    /// `WARREN_URL`, or the first line of the file named by `WARREN_URL_FILE`, or the local default.
    static func configuration(name: String) throws -> AMQPConfiguration {
        let env = ProcessInfo.processInfo.environment
        var url = env["WARREN_URL"] ?? defaultURL
        if let file = env["WARREN_URL_FILE"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                  let line = text.split(whereSeparator: \.isNewline).first
            else { throw ValidationError("cannot read WARREN_URL_FILE \(file)") }
            url = String(line).trimmingCharacters(in: .whitespaces)
        }
        var config = try AMQPConfiguration(url: url)
        if config.connectionName == "warren" { config.connectionName = name }
        return config
    }

    static func connect(name: String, logger: Logger) async throws -> AMQPConnection {
        let config = try configuration(name: name)
        logger.info("connecting", metadata: ["broker": "\(config)"])
        return try await AMQPConnection.connect(config, logger: logger)
    }
}

/// How queues are declared; producers and workers must agree, so both read the same flags and environment.
struct TopologyOptions: ParsableArguments {
    @Option(help: "Queue type: classic or quorum (env WARREN_MODE).")
    var mode: String = ProcessInfo.processInfo.environment["WARREN_MODE"] ?? "classic"

    @Option(help: "x-max-priority of classic work queues, 0 for none (env WARREN_MAX_PRIORITY).")
    var maxPriority: Int = Int(ProcessInfo.processInfo.environment["WARREN_MAX_PRIORITY"] ?? "") ?? 10

    @Option(help: "Priority lanes per queue, 1 for none (env WARREN_LANES).")
    var lanes: Int = Int(ProcessInfo.processInfo.environment["WARREN_LANES"] ?? "") ?? 1

    @Option(name: .customLong("external-queue"), help: ArgumentHelp(
        "Queue declared by another system with no arguments (e.g. Celery's 'celery'); repeatable (env WARREN_EXTERNAL_QUEUES).",
        valueName: "name"))
    var externalQueues: [String] = splitList([ProcessInfo.processInfo.environment["WARREN_EXTERNAL_QUEUES"] ?? ""])

    @Option(help: "Most jobs ready per work queue (x-max-length, x-overflow=reject-publish); enqueues beyond it fail with queueFull (env WARREN_MAX_LENGTH).")
    var maxLength: Int? = Int(ProcessInfo.processInfo.environment["WARREN_MAX_LENGTH"] ?? "")

    func topology(queues: [String]) throws -> Topology {
        guard let m = Topology.Mode(rawValue: mode) else { throw ValidationError("--mode must be classic or quorum") }
        guard (0...255).contains(maxPriority) else { throw ValidationError("--max-priority must be 0...255") }
        let usePriority = m == .classic && maxPriority > 0 && lanes <= 1
        return Topology(mode: m, queues: queues.map {
            Topology.Queue($0, maxPriority: usePriority ? UInt8(maxPriority) : nil, lanes: max(1, lanes),
                           external: externalQueues.contains($0), maxLength: maxLength)
        })
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

/// Splits repeated and comma-separated list options.
func splitList(_ values: [String]) -> [String] {
    values.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
}
