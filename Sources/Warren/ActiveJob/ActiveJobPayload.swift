import Foundation

/// The JSON object ActiveJob writes for a job (`ActiveSupport::JSON.encode(job.serialize)`, Rails 6.1 to 7.x),
/// as the Sneakers adapter publishes it:
///
/// ```json
/// {"job_class":"RecordJob","job_id":"4eef1be5-…","provider_job_id":null,"queue_name":"default","priority":null,
///  "arguments":["/tmp/x",{"at":…,"_aj_ruby2_keywords":["at"]}],"executions":0,"exception_executions":{},
///  "locale":"en","timezone":"UTC","enqueued_at":"2026-11-30T16:45:50Z"}
/// ```
///
/// `scheduled_at` appears from Rails 7.1 on (ISO-8601 text; a number of seconds since the epoch is accepted too).
/// The arguments stay in ActiveJob's serialized form here; ``ActiveJobArguments`` reads them.
struct ActiveJobPayload {
    /// The Ruby class name, e.g. `RecordJob` or `Billing::SendInvoiceJob`.
    var jobClass: String
    /// ActiveJob's job id (a UUID): the Warren job id.
    var jobID: String
    /// `ActiveJob::Arguments.serialize(arguments)`.
    var arguments: [Any]
    /// Performs so far (0 when first enqueued; ActiveJob's `retry_on` re-enqueues with the count).
    var executions: Int
    /// The queue the job was enqueued to (the routing key).
    var queueName: String?
    /// ActiveJob's priority (not an AMQP property: the Sneakers adapter leaves that at 0).
    var priority: Int?
    /// When Rails enqueued it.
    var enqueuedAt: Date?
    /// Not to run before this time (Rails 7.1+, or an adapter that adds it).
    var scheduledAt: Date?
    /// `I18n.locale` at enqueue time.
    var locale: String?
    /// `Time.zone` name at enqueue time.
    var timezone: String?

    /// Reads `body`; `nil` when it is not a JSON object with a `job_class` key (not an ActiveJob payload at all).
    /// Throws when it is one but a field is unusable.
    static func read(_ body: [UInt8]) throws(JobDecodingError) -> ActiveJobPayload? {
        guard body.first(where: { !$0.isJSONWhitespace }) == UInt8(ascii: "{"),
              let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
              let classValue = object["job_class"]
        else { return nil }
        guard let jobClass = classValue as? String, !jobClass.isEmpty else {
            throw JobDecodingError("ActiveJob payload: 'job_class' must be the job's class name, got \(classValue)")
        }
        func field<T>(_ key: String, _ type: T.Type, _ expected: String) throws(JobDecodingError) -> T? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            guard let typed = value as? T else {
                throw JobDecodingError("ActiveJob \(jobClass): '\(key)' must be \(expected), got \(value)")
            }
            return typed
        }
        guard let jobID = try field("job_id", String.self, "a string"), !jobID.isEmpty else {
            throw JobDecodingError("ActiveJob \(jobClass): 'job_id' is missing or empty (the payload is not job.serialize)")
        }
        guard let arguments = try field("arguments", [Any].self, "a list") else {
            throw JobDecodingError("ActiveJob \(jobClass) \(jobID): 'arguments' is missing (the payload is not job.serialize)")
        }
        let executions = try integer(object["executions"], "executions", jobClass) ?? 0
        guard executions >= 0 else { throw JobDecodingError("ActiveJob \(jobClass) \(jobID): 'executions' is negative") }
        return ActiveJobPayload(
            jobClass: jobClass, jobID: jobID, arguments: arguments, executions: executions,
            queueName: try field("queue_name", String.self, "a string"),
            priority: try integer(object["priority"], "priority", jobClass),
            enqueuedAt: try time(object["enqueued_at"], "enqueued_at", jobClass),
            scheduledAt: try time(object["scheduled_at"], "scheduled_at", jobClass),
            locale: try field("locale", String.self, "a string"),
            timezone: try field("timezone", String.self, "a string"))
    }

    /// The class, id and executions of a body that looks like a payload, read leniently (for dead letters, which
    /// may be malformed): `nil` when the body is not a JSON object with a string `job_class`.
    static func identity(of body: [UInt8]) -> (jobClass: String, jobID: String?, executions: Int?)? {
        guard body.first(where: { !$0.isJSONWhitespace }) == UInt8(ascii: "{"),
              let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
              let jobClass = object["job_class"] as? String, !jobClass.isEmpty
        else { return nil }
        return (jobClass, (object["job_id"] as? String).flatMap { $0.isEmpty ? nil : $0 }, try? integer(object["executions"], "executions", jobClass))
    }

    /// A whole number (JSON numbers arrive as NSNumber; a Bool is not one).
    private static func integer(_ value: Any?, _ key: String, _ jobClass: String) throws(JobDecodingError) -> Int? {
        guard let value, !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !number.isBoolean, let whole = Int(exactly: number.doubleValue) else {
            throw JobDecodingError("ActiveJob \(jobClass): '\(key)' must be a whole number, got \(value)")
        }
        return whole
    }

    /// An ISO-8601 time as Rails writes it (`iso8601` or `iso8601(9)`), or seconds since the epoch.
    private static func time(_ value: Any?, _ key: String, _ jobClass: String) throws(JobDecodingError) -> Date? {
        guard let value, !(value is NSNull) else { return nil }
        if let number = value as? NSNumber, !number.isBoolean { return Date(timeIntervalSince1970: number.doubleValue) }
        guard let text = value as? String, let date = HeaderValues.lenientISODate(text) else {
            throw JobDecodingError("ActiveJob \(jobClass): '\(key)' is not an ISO-8601 time: \(value)")
        }
        return date
    }
}

extension NSNumber {
    /// Whether JSONSerialization made this number from `true` or `false` (its type code is `c`, which JSON
    /// numbers never get).
    var isBoolean: Bool { objCType.pointee == CChar(UInt8(ascii: "c")) }
}

extension UInt8 {
    /// JSON's insignificant whitespace.
    var isJSONWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
}
