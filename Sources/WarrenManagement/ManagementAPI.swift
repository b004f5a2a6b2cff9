import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Warren
import WarrenMetrics

/// A client of the RabbitMQ management plugin's HTTP API for what AMQP 0-9-1 cannot tell: unacknowledged
/// counts, rates, and each consumer's host (`/api/queues`, `/api/overview`, `/api/consumers`). Each call is
/// one HTTP request with ``ManagementConfiguration/timeout``; errors are ``ManagementError``.
///
/// As a ``QueueStatisticsSource`` it feeds ``BrokerStatus`` (`warren status`, the dashboard's queues page).
public struct ManagementAPI: QueueStatisticsSource {
    /// Where and as whom.
    public let configuration: ManagementConfiguration
    private let client: HTTPClient

    /// A client on AsyncHTTPClient's shared client (nothing to shut down).
    public init(_ configuration: ManagementConfiguration) {
        self.configuration = configuration
        self.client = HTTPClient.shared
    }

    /// `management API`.
    public var sourceName: String { "management API" }

    /// One queue as `/api/queues` reports it (the fields Warren reads).
    public struct QueueEntry: Sendable, Decodable {
        /// Queue name.
        public var name: String
        /// Ready messages.
        public var messagesReady: Int?
        /// Unacknowledged messages.
        public var messagesUnacknowledged: Int?
        /// Consumers.
        public var consumers: Int?
        /// Per-second rates (absent on a queue that never saw traffic).
        public var messageStats: MessageStats?

        enum CodingKeys: String, CodingKey {
            case name, consumers
            case messagesReady = "messages_ready", messagesUnacknowledged = "messages_unacknowledged", messageStats = "message_stats"
        }
    }

    /// Rates as the API reports them (`*_details.rate`, messages per second).
    public struct MessageStats: Sendable, Decodable, Hashable {
        /// Publishes per second.
        public var publish: Double?
        /// Deliveries (and gets) per second.
        public var deliver: Double?
        /// Acks per second.
        public var ack: Double?
        /// Redeliveries per second.
        public var redeliver: Double?

        struct Rate: Decodable { var rate: Double? }
        enum CodingKeys: String, CodingKey {
            case publish = "publish_details", deliver = "deliver_get_details", ack = "ack_details", redeliver = "redeliver_details"
        }
        /// Decodes the `*_details` objects.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            publish = try c.decodeIfPresent(Rate.self, forKey: .publish)?.rate
            deliver = try c.decodeIfPresent(Rate.self, forKey: .deliver)?.rate
            ack = try c.decodeIfPresent(Rate.self, forKey: .ack)?.rate
            redeliver = try c.decodeIfPresent(Rate.self, forKey: .redeliver)?.rate
        }
    }

    /// `/api/overview`, the parts Warren shows.
    public struct Overview: Sendable, Decodable {
        /// Broker version.
        public var rabbitmqVersion: String?
        /// Node answering.
        public var node: String?
        /// Broker-wide rates.
        public var messageStats: MessageStats?
        /// Broker-wide totals.
        public var queueTotals: QueueTotals?
        /// Object counts.
        public var objectTotals: ObjectTotals?

        enum CodingKeys: String, CodingKey {
            case node
            case rabbitmqVersion = "rabbitmq_version", messageStats = "message_stats", queueTotals = "queue_totals", objectTotals = "object_totals"
        }
    }

    /// Message totals over all queues.
    public struct QueueTotals: Sendable, Decodable, Hashable {
        /// All messages.
        public var messages: Int?
        /// Ready.
        public var messagesReady: Int?
        /// Unacknowledged.
        public var messagesUnacknowledged: Int?
        enum CodingKeys: String, CodingKey {
            case messages, messagesReady = "messages_ready", messagesUnacknowledged = "messages_unacknowledged"
        }
    }

    /// Object counts.
    public struct ObjectTotals: Sendable, Decodable, Hashable {
        /// Connections, channels, queues, consumers.
        public var connections, channels, queues, consumers: Int?
    }

    /// One consumer (`/api/consumers`): which queue, and where it connects from.
    public struct Consumer: Sendable, Decodable, Hashable {
        /// The consumer tag.
        public var consumerTag: String
        /// Prefetch of its channel.
        public var prefetchCount: Int?
        /// The queue consumed.
        public var queue: String
        /// The client's address.
        public var peerHost: String?
        /// The client's port.
        public var peerPort: Int?
        /// The connection's name (Warren names worker connections `warren-worker`).
        public var connectionName: String?

        enum CodingKeys: String, CodingKey { case consumerTag = "consumer_tag", prefetchCount = "prefetch_count", queue, channelDetails = "channel_details" }
        struct Named: Decodable { var name: String }
        struct Channel: Decodable {
            var peerHost: String?
            var peerPort: Int?
            var connectionName: String?
            enum CodingKeys: String, CodingKey { case peerHost = "peer_host", peerPort = "peer_port", connectionName = "connection_name" }
        }
        /// Decodes the API's nested form.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            consumerTag = try c.decode(String.self, forKey: .consumerTag)
            prefetchCount = try c.decodeIfPresent(Int.self, forKey: .prefetchCount)
            queue = try c.decode(Named.self, forKey: .queue).name
            let ch = try c.decodeIfPresent(Channel.self, forKey: .channelDetails)
            peerHost = ch?.peerHost
            peerPort = ch?.peerPort
            connectionName = ch?.connectionName
        }
    }

    /// Queue columns asked of `/api/queues`: only what ``QueueEntry`` reads, so the answer stays small.
    static let queueColumns = ["name", "messages_ready", "messages_unacknowledged", "consumers",
                               "message_stats.publish_details.rate", "message_stats.deliver_get_details.rate",
                               "message_stats.ack_details.rate", "message_stats.redeliver_details.rate"].joined(separator: ",")

    /// Every queue of the configured virtual host.
    public func queues() async throws -> [QueueEntry] {
        try await get("/api/queues/\(Self.escape(configuration.virtualHost))?columns=\(Self.queueColumns)")
    }

    /// The broker overview.
    public func overview() async throws -> Overview {
        try await get("/api/overview?columns=rabbitmq_version,node,message_stats,queue_totals,object_totals")
    }

    /// The consumers of the configured virtual host.
    public func consumers() async throws -> [Consumer] {
        try await get("/api/consumers/\(Self.escape(configuration.virtualHost))")
    }

    /// ``QueueStatisticsSource``: `/api/queues` as figures, with rates.
    public func queueFigures(vhost: String) async throws -> [String: QueueFigures] {
        var out: [String: QueueFigures] = [:]
        for q in try await queues() {
            out[q.name] = QueueFigures(ready: q.messagesReady ?? 0, unacked: q.messagesUnacknowledged ?? 0, consumers: q.consumers ?? 0,
                                       publishRate: q.messageStats?.publish, deliverRate: q.messageStats?.deliver,
                                       ackRate: q.messageStats?.ack)
        }
        return out
    }

    /// One node's alarms (`/api/nodes`).
    struct NodeAlarms: Decodable {
        var name: String
        var memAlarm: Bool?
        var diskFreeAlarm: Bool?
        enum CodingKeys: String, CodingKey { case name, memAlarm = "mem_alarm", diskFreeAlarm = "disk_free_alarm" }
    }

    /// ``QueueStatisticsSource``: the memory and disk alarms of every node (`/api/nodes`).
    public func alarms() async throws -> [String]? {
        let nodes: [NodeAlarms] = try await get("/api/nodes?columns=name,mem_alarm,disk_free_alarm")
        return nodes.flatMap { n in
            (n.memAlarm == true ? ["memory alarm on \(n.name)"] : []) + (n.diskFreeAlarm == true ? ["disk alarm on \(n.name)"] : [])
        }
    }

    /// Requests `path` and decodes the JSON answer.
    func get<T: Decodable>(_ path: String) async throws -> T {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        let credentials = Data("\(configuration.user):\(configuration.password)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "Accept", value: "application/json")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .milliseconds(Int64(configuration.timeout * 1000)))
        } catch {
            throw ManagementError(.unreachable, "\(configuration.baseURL): \(error)")
        }
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else {
            throw ManagementError(response.status == .unauthorized ? .unauthorized : .failed,
                                  "\(path.split(separator: "?").first ?? ""): HTTP \(response.status.code)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch {
            throw ManagementError(.failed, "\(path.split(separator: "?").first ?? ""): unexpected answer: \(error)")
        }
    }

    /// A virtual host as a path segment (`/` -> `%2F`).
    static func escape(_ vhost: String) -> String {
        vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? vhost
    }
}

/// A failure of the management API.
public struct ManagementError: Error, Sendable, CustomStringConvertible {
    /// Kinds.
    public enum Code: String, Sendable {
        /// No answer (plugin not enabled, wrong host or port, timeout).
        case unreachable
        /// Credentials refused (401).
        case unauthorized
        /// Any other HTTP status or an answer that does not decode.
        case failed
    }
    /// The kind.
    public var code: Code
    /// What happened.
    public var message: String
    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    /// For people.
    public var description: String { "management API \(code.rawValue): \(message)" }
}
