import Foundation
import WarrenAMQP

/// How to enqueue one job. Everything is optional.
public struct EnqueueOptions: Sendable {
    /// Work queue. Default `default`.
    public var queue: String
    /// Priority 0...255 (honoured up to the queue's `x-max-priority`, or by lane).
    public var priority: UInt8?
    /// Run no sooner than this long from now.
    public var delay: Duration?
    /// Run no sooner than this time (wins over ``delay``).
    public var runAt: Date?
    /// Drop (dead-letter as `expired`) if not started by this time.
    public var expiresAt: Date?
    /// Job id; default a new UUID. Use a deterministic one to make enqueueing idempotent downstream.
    public var jobID: String?
    /// Attempt limit for this job, overriding the worker's retry policy.
    public var maxAttempts: Int?
    /// Correlation id property.
    public var correlationID: String?
    /// Extra headers, kept as they are.
    public var headers: FieldTable

    /// Creates options.
    public init(queue: String = "default", priority: UInt8? = nil, delay: Duration? = nil, runAt: Date? = nil,
                expiresAt: Date? = nil, jobID: String? = nil, maxAttempts: Int? = nil, correlationID: String? = nil,
                headers: FieldTable = [:]) {
        self.queue = queue
        self.priority = priority
        self.delay = delay
        self.runAt = runAt
        self.expiresAt = expiresAt
        self.jobID = jobID
        self.maxAttempts = maxAttempts
        self.correlationID = correlationID
        self.headers = headers
    }

    /// Sets the expiry to `interval` from now.
    public func expiring(in interval: Duration) -> EnqueueOptions {
        var o = self
        o.expiresAt = Date().addingTimeInterval(interval.seconds)
        return o
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

/// A typed job's arguments: `Codable` parameters and the name workers know the job by.
///
/// ```swift
/// struct SendEmail: JobParameters {
///     static let jobName = "send-email"
///     var to: String
///     var subject: String
/// }
/// ```
public protocol JobParameters: Codable, Sendable {
    /// The job's name on the wire (``WireFormat/Header/job``).
    static var jobName: String { get }
}

/// A job to enqueue in a batch: its name, JSON arguments and options.
public struct JobRequest: Sendable {
    /// Job name.
    public var name: String
    /// Arguments, JSON.
    public var arguments: [UInt8]
    /// Options.
    public var options: EnqueueOptions

    /// A request from raw JSON arguments.
    public init(name: String, arguments: [UInt8], options: EnqueueOptions = EnqueueOptions()) {
        self.name = name
        self.arguments = arguments
        self.options = options
    }

    /// A request for a typed job.
    public init<P: JobParameters>(_ parameters: P, options: EnqueueOptions = EnqueueOptions()) throws(WarrenError) {
        self.init(name: P.jobName, arguments: try JSONArguments.encode(parameters), options: options)
    }
}

/// JSON encoding and decoding of job arguments, in one place.
public enum JSONArguments {
    /// Encodes arguments (sorted keys, so equal arguments give equal bytes).
    public static func encode<P: Encodable>(_ value: P) throws(WarrenError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(value)) } catch {
            throw WarrenError(.invalidArguments, "cannot encode arguments as JSON: \(error)")
        }
    }

    /// True for an empty body or exactly `{}`: arguments that need no parsing.
    static func isEmptyObject(_ body: [UInt8]) -> Bool {
        body.isEmpty || (body.count == 2 && body[0] == UInt8(ascii: "{") && body[1] == UInt8(ascii: "}"))
    }

    /// One decoder for every job: decoding is thread-safe, and making one per job costs more than a short job.
    private static let decoder = JSONDecoder()

    /// Decodes arguments; an empty body reads as `{}`. Errors name the failing field path.
    public static func decode<P: Decodable>(_ type: P.Type, from body: [UInt8]) throws(ArgumentsError) -> P {
        let data = body.isEmpty ? Data("{}".utf8) : Data(body)
        do { return try decoder.decode(type, from: data) } catch let error as DecodingError {
            throw ArgumentsError(error)
        } catch {
            throw ArgumentsError(reason: .invalidArguments, message: "\(error)")
        }
    }
}

/// Arguments that do not decode: either not JSON at all (`undecodable`) or the wrong shape (`invalidArguments`).
public struct ArgumentsError: Error, Sendable, CustomStringConvertible {
    /// The dead-letter reason this maps to.
    public var reason: DeadLetterReason
    /// What is wrong, naming the field.
    public var message: String

    init(reason: DeadLetterReason, message: String) {
        self.reason = reason
        self.message = message
    }

    init(_ error: DecodingError) {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "arguments" : "arguments\(p)"
        }
        switch error {
        case .typeMismatch(let type, let c):
            self.init(reason: .invalidArguments, message: "\(path(c)): expected \(type), \(c.debugDescription)")
        case .valueNotFound(let type, let c):
            self.init(reason: .invalidArguments, message: "\(path(c)): expected \(type) but found null")
        case .keyNotFound(let key, let c):
            let p = path(c)
            self.init(reason: .invalidArguments, message: "\(p == "arguments" ? "" : "\(p): ")missing required argument '\(key.stringValue)'")
        case .dataCorrupted(let c) where c.codingPath.isEmpty:
            self.init(reason: .undecodable, message: "body is not valid JSON: \(c.underlyingError.map { "\($0)" } ?? c.debugDescription)")
        case .dataCorrupted(let c):
            self.init(reason: .invalidArguments, message: "\(path(c)): \(c.debugDescription)")
        @unknown default:
            self.init(reason: .invalidArguments, message: "\(error)")
        }
    }

    public var description: String { message }
}
