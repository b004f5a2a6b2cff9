import Foundation
import Logging
import WarrenAMQP

/// The broker connection settings of a Warren process, read from its environment (secrets never go to argv
/// or logs): `WARREN_URL`, or the first line of the file named by `WARREN_URL_FILE` (which wins), or the
/// local default ``defaultURL``. The CLI, the dashboard and any Swift service read them through here.
public enum BrokerEnvironment {
    /// The URL used when neither `WARREN_URL` nor `WARREN_URL_FILE` is set: the local broker as guest.
    public static let defaultURL = "amqp://guest:guest@127.0.0.1:5672/%2F"

    /// The broker URL `environment` names (see the type's documentation). Throws
    /// ``WarrenError/Code/invalidInput`` when `WARREN_URL_FILE` cannot be read or is empty.
    public static func url(environment: [String: String] = ProcessInfo.processInfo.environment) throws(WarrenError) -> String {
        try setting("WARREN_URL", environment: environment) ?? defaultURL
    }

    /// A setting that may be secret: the first line of the file `<name>_FILE` names (which wins), else the
    /// variable `name`, else `nil`. Throws ``WarrenError/Code/invalidInput`` when the file cannot be read or
    /// is empty. Secrets are read this way so they never have to be on a command line.
    public static func setting(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(WarrenError) -> String? {
        guard let file = environment[name + "_FILE"] else { return environment[name] }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
              let line = text.split(whereSeparator: \.isNewline).first
        else { throw WarrenError(.invalidInput, "cannot read \(name)_FILE \(file)") }
        return String(line).trimmingCharacters(in: .whitespaces)
    }

    /// The connection settings from ``url(environment:)``; `name` becomes the connection name the broker
    /// shows unless the URL set one.
    public static func configuration(name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AMQPConfiguration {
        var config = try AMQPConfiguration(url: try url(environment: environment))
        if config.connectionName == "warren" { config.connectionName = name }
        return config
    }

    /// Connects with ``configuration(name:environment:)``, logging where to (the password redacted).
    public static func connect(name: String, logger: Logger,
                               environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> AMQPConnection {
        let config = try configuration(name: name, environment: environment)
        logger.info("connecting", metadata: ["broker": "\(config)"])
        return try await AMQPConnection.connect(config, logger: logger)
    }

    /// Connects (``connect(name:logger:environment:)``), declares `topology` on a channel of its own and opens
    /// a producer for it: what a command that enqueues needs. The caller closes the connection; on failure it
    /// is closed here.
    public static func producer(name: String, topology: Topology, logger: Logger,
                                environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> (JobProducer, AMQPConnection) {
        let connection = try await connect(name: name, logger: logger, environment: environment)
        do {
            let setup = try await connection.openChannel()
            try await topology.declare(on: setup)
            await setup.close()
            return (try await JobProducer(connection: connection, topology: topology), connection)
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Splits repeated and comma-separated list values (`--queue a,b --queue c`, `WARREN_QUEUES=a,b`),
    /// trimming blanks and dropping empty items.
    public static func list(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    }
}
