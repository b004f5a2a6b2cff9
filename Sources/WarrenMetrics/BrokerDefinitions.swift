import Foundation
import Logging
import Warren
import WarrenAMQP

/// A topology as a RabbitMQ definitions file (`rabbitmqctl import_definitions`, `load_definitions`), read
/// back from the broker after declaring it with Warren's own code in a scratch virtual host, so the file is
/// exactly what workers would declare.
public struct BrokerDefinitions: Sendable {
    /// The definitions document, as JSON (keys sorted; `vhosts`, `exchanges`, `queues`, `bindings`, and
    /// `policies`: ``DeadLetterPolicy``).
    public let json: Data

    /// The objects under `key` (`exchanges`, `queues`, `bindings`), each a JSON object.
    public func objects(_ key: String) -> [[String: Any]] {
        ((try? JSONSerialization.jsonObject(with: json)) as? [String: Any])?[key] as? [[String: Any]] ?? []
    }

    /// The document as text, indented with `pretty`.
    public func text(pretty: Bool = true) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: json) else { return "" }
        return Self.json(object, pretty: pretty)
    }

    /// Declares `topology` in a scratch virtual host on the broker `configuration` names (its user gets
    /// permissions there), exports the definitions with `ctl`, removes the scratch virtual host and rewrites
    /// the objects' virtual host to `vhost`.
    public static func export(_ topology: Topology, vhost: String, configuration: AMQPConfiguration, ctl: RabbitMQCtl,
                              logger: Logger = Logger(label: "warren.topology")) async throws -> BrokerDefinitions {
        var config = configuration
        let scratch = "warren-definitions-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try ctl.run(["add_vhost", scratch])
        defer { _ = try? ctl.run(["delete_vhost", scratch]) }
        _ = try ctl.run(["set_permissions", "-p", scratch, config.user, ".*", ".*", ".*"])
        config.virtualHost = scratch
        let connection = try await AMQPConnection.connect(config, logger: logger)
        try await connection.closing(after: { connection in try await topology.declare(on: try await connection.openChannel()) })
        let exported = try JSONSerialization.jsonObject(with: try ctl.run(["export_definitions", "-", "--format", "json"]))
        guard let all = exported as? [String: Any] else { throw WarrenError(.broker, "rabbitmqctl export_definitions gave no JSON object") }
        var doc: [String: Any] = ["vhosts": [["name": vhost]]]
        for key in ["exchanges", "queues", "bindings"] {
            let mine = (all[key] as? [[String: Any]] ?? []).filter { $0["vhost"] as? String == scratch }
            doc[key] = mine.map { item -> [String: Any] in
                var item = item
                item["vhost"] = vhost
                return item
            }.sorted { json($0) < json($1) }
        }
        doc["policies"] = [["vhost": vhost, "name": DeadLetterPolicy.name, "pattern": DeadLetterPolicy.pattern,
                            "apply-to": "queues", "priority": DeadLetterPolicy.priority,
                            "definition": DeadLetterPolicy.definition] as [String: Any]]
        return BrokerDefinitions(json: try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys]))
    }

    /// `value` as JSON text with sorted keys (empty when it is not JSON-encodable).
    public static func json(_ value: Any, pretty: Bool = false) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
