import Foundation
import WarrenAMQP

/// Reads the jobs a Rails application enqueues through ActiveJob's Sneakers adapter, so a job can move from Ruby
/// to Swift with no change on the Rails side. Add it with `configuration.foreignFormats.append(.activeJob)` (or
/// `.activeJob(ActiveJobFormat(exchange:jobNames:))`); `warren worker --activejob` does. `docs/wire-format.md`
/// describes what is supported.
///
/// The adapter publishes `ActiveSupport::JSON.encode(job.serialize)` (``ActiveJobPayload``) to Sneakers' durable
/// direct exchange (``exchange``, `sneakers` by default) with routing key = `queue_name`, persistent, content type
/// `application/octet-stream`, and no `message_id`. The worker declares that exchange and binds each queue it
/// consumes to it by the queue's name. A message is ActiveJob's when it has no `warren-job` header and its body is a
/// JSON object with `job_class`. Then:
/// - `job_class` names the Swift job (see ``ActiveJobClassNames``); `job_id` becomes the job id (`message_id`);
/// - `arguments` become one JSON object (``ActiveJobArguments``): positional ones take the names of
///   ``JobRegistry/Definition/positionalArguments`` in order, keyword arguments keep theirs;
/// - `executions` becomes the attempt (`executions + 1`), `enqueued_at` the enqueue time, `scheduled_at` the
///   run-at time, which the worker honours through the delay levels;
/// - `job_class`, `locale` and `timezone` stay on the message as headers (``Header``).
///
/// The content type `application/octet-stream` is accepted for ActiveJob payloads only: an octet-stream body
/// that is not one is refused here, naming what was expected. Every refusal is a ``JobDecodingError`` that the
/// worker dead-letters with the message untouched.
public struct ActiveJobFormat: Sendable {
    /// Sneakers' default exchange.
    public static let defaultExchange = "sneakers"
    /// The content type bunny gives a message when the publisher sets none (as the Sneakers adapter does).
    public static let sneakersContentType = "application/octet-stream"

    /// Headers an ActiveJob message gets once read (kept on retries and dead letters).
    public enum Header {
        /// The Ruby class name (`job_class`).
        public static let jobClass = "activejob-job-class"
        /// `I18n.locale` when it was enqueued.
        public static let locale = "activejob-locale"
        /// `Time.zone` when it was enqueued.
        public static let timezone = "activejob-timezone"
    }

    /// The exchange the Rails side publishes to (Sneakers' `exchange` option). Default `sneakers`.
    public var exchange: String
    /// Which Swift job runs which class. Default: by class name, then by conventional name.
    public var jobNames: ActiveJobClassNames

    /// Creates the format; `jobNames` maps Ruby class names to Swift job names beyond the conventions.
    public init(exchange: String = ActiveJobFormat.defaultExchange, jobNames: [String: String] = [:]) {
        self.exchange = exchange
        self.jobNames = ActiveJobClassNames(jobNames)
    }

    /// Reads a message; `nil` when it is not ActiveJob's.
    public func decode(properties: BasicProperties, body: [UInt8], registry: JobRegistry) throws(JobDecodingError) -> JobEnvelope? {
        let headers = properties.headers ?? [:]
        guard WireFormat.jobName(properties) == nil else { return nil }
        let type = properties.contentType?.lowercased() ?? ""
        let octetStream = type.hasPrefix(Self.sneakersContentType)
        guard type.isEmpty || octetStream || type.hasPrefix("application/json") || type.hasPrefix("text/json") else { return nil }
        guard let payload = try ActiveJobPayload.read(body) else {
            guard octetStream, headers[CeleryFormat.Header.task] == nil else { return nil }
            throw JobDecodingError("message with content type '\(Self.sneakersContentType)' is not an ActiveJob payload: expected the "
                                   + "JSON object of job.serialize (job_class, job_id, arguments) that ActiveJob's Sneakers adapter publishes")
        }
        guard let name = jobNames.job(for: payload.jobClass, in: registry), let definition = registry[name] else {
            let tried = jobNames.candidates(for: payload.jobClass).map { "'\($0)'" }.joined(separator: " or ")
            throw JobDecodingError("ActiveJob class \(payload.jobClass) (job_id \(payload.jobID)) has no Swift job on this worker: register one "
                                   + "named \(tried), or map the class with ActiveJobFormat(jobNames:) (known: \(registry.names.joined(separator: ", ")))",
                                   reason: .unknownJob)
        }
        let (positional, keywords) = try ActiveJobArguments.split(payload.arguments, job: payload.jobClass)
        let arguments = try PositionalArguments.object(
            positional: positional, keywords: keywords, for: definition,
            wording: .init(subject: "ActiveJob \(payload.jobClass) (Swift job '\(name)')",
                           surplusHint: "pass keyword arguments (perform_later(x: 1)), or register the Swift job with positionalArguments naming them"))

        var h = headers
        h[WireFormat.Header.version] = .int32(Int32(WireFormat.version))
        h[WireFormat.Header.job] = .string(name)
        // A requeued dead letter carries the attempt the operator chose; otherwise ActiveJob's count says it.
        if h[WireFormat.Header.attempt] == nil { h[WireFormat.Header.attempt] = .int32(Int32(clamping: payload.executions + 1)) }
        if let at = payload.enqueuedAt { h[WireFormat.Header.enqueuedAt] = .milliseconds(at) }
        if let at = payload.scheduledAt { h[WireFormat.Header.runAt] = .milliseconds(at) }
        h[Header.jobClass] = .string(payload.jobClass)
        if let locale = payload.locale { h[Header.locale] = .string(locale) }
        if let zone = payload.timezone { h[Header.timezone] = .string(zone) }
        var warrenProperties = properties
        warrenProperties.headers = h
        warrenProperties.messageID = payload.jobID
        warrenProperties.contentType = WireFormat.contentType
        return try JobEnvelope(properties: warrenProperties, body: arguments)
    }

    /// Reads the ISO-8601 text Rails writes for Time, TimeWithZone and DateTime arguments
    /// (`2024-06-01T12:00:00.000000000+02:00`), to the millisecond; `nil` when it is not such text.
    public static func time(_ text: String) -> Date? { HeaderValues.lenientISODate(text) }
}

extension ForeignFormat {
    /// ActiveJob jobs published by Rails' Sneakers adapter to the `sneakers` exchange (see ``ActiveJobFormat``).
    public static let activeJob = ForeignFormat.activeJob(ActiveJobFormat())

    /// ActiveJob jobs, with another exchange or explicit class-name mapping.
    public static func activeJob(_ format: ActiveJobFormat) -> ForeignFormat {
        ForeignFormat(name: "activejob", exchanges: [format.exchange]) { properties, body, registry throws(JobDecodingError) in
            try format.decode(properties: properties, body: body, registry: registry)
        }
    }
}
