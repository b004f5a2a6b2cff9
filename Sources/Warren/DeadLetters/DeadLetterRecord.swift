import Foundation
import WarrenAMQP

/// One message in an export file (JSON Lines, one record per line): everything needed to put it back
/// byte for byte. Properties keep every field, headers keep their AMQP kinds (``JSONFieldValue``), the
/// body is base64 (binary bodies included).
///
/// AMQP tables are sets of keys: the order of headers on the wire is not kept (RabbitMQ does not keep it either).
public struct DeadLetterRecord: Codable, Sendable, Hashable {
    /// Format marker and version: `warren-dlq/1`.
    public var format: String
    /// The dead-letter queue the message was exported from (import puts it back there unless told otherwise).
    public var queue: String
    /// Exchange the message had been published to (for information).
    public var exchange: String?
    /// Routing key it had been published with (for information).
    public var routingKey: String?
    /// Job id, for people and scripts (also in ``properties``).
    public var id: String?
    /// Job name, for people and scripts (also in the headers).
    public var job: String?
    /// Properties, all fields.
    public var properties: JSONProperties
    /// The body, base64.
    public var body: String

    /// The current format marker.
    public static let currentFormat = "warren-dlq/1"

    /// The record of a dead letter.
    public init(_ letter: DeadLetter) {
        format = Self.currentFormat
        queue = letter.deadLetterQueue
        exchange = letter.exchange
        routingKey = letter.routingKey
        id = letter.id.isEmpty ? nil : letter.id
        job = letter.job.isEmpty ? nil : letter.job
        properties = JSONProperties(letter.properties)
        body = Data(letter.body).base64EncodedString()
    }

    /// The body bytes. Throws when the base64 is damaged.
    public func bodyBytes() throws(WarrenError) -> [UInt8] {
        guard let data = Data(base64Encoded: body) else { throw WarrenError(.invalidInput, "record body is not base64") }
        return Array(data)
    }

    /// One JSON line (no newline), keys sorted.
    public func jsonLine() throws -> [UInt8] {
        Array(try Self.encoder.encode(self))
    }

    /// Reads one JSON line.
    public static func parse(_ line: some Sequence<UInt8>) throws(WarrenError) -> DeadLetterRecord {
        let record: DeadLetterRecord
        do { record = try JSONDecoder().decode(DeadLetterRecord.self, from: Data(line)) } catch {
            throw WarrenError(.invalidInput, "not a dead-letter export record: \(error)")
        }
        guard record.format == currentFormat else {
            throw WarrenError(.invalidInput, "unknown export format '\(record.format)' (this version reads \(currentFormat))")
        }
        return record
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()
}

/// ``BasicProperties`` as JSON: every field, unset ones omitted, headers typed.
public struct JSONProperties: Codable, Sendable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: [String: JSONFieldValue]?
    public var deliveryMode: UInt8?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageID: String?
    public var timestamp: UInt64?
    public var type: String?
    public var userID: String?
    public var appID: String?
    public var clusterID: String?

    /// The JSON form of `p`.
    public init(_ p: BasicProperties) {
        contentType = p.contentType
        contentEncoding = p.contentEncoding
        headers = p.headers?.mapValues(JSONFieldValue.init)
        deliveryMode = p.persistent.map { $0 ? 2 : 1 }
        priority = p.priority
        correlationID = p.correlationID
        replyTo = p.replyTo
        expiration = p.expiration
        messageID = p.messageID
        timestamp = p.timestamp
        type = p.type
        userID = p.userID
        appID = p.appID
        clusterID = p.clusterID
    }

    /// The AMQP properties.
    public var properties: BasicProperties {
        BasicProperties(contentType: contentType, contentEncoding: contentEncoding, headers: headers?.mapValues(\.value),
                        persistent: deliveryMode.map { $0 == 2 }, priority: priority, correlationID: correlationID,
                        replyTo: replyTo, expiration: expiration, messageID: messageID, timestamp: timestamp, type: type,
                        userID: userID, appID: appID, clusterID: clusterID)
    }
}
