import Foundation
@testable import Warren
import WarrenAMQP
import XCTest

private struct Report: JobParameters {
    static let jobName = "report"
    var file: String
    var label: String?
}

/// ActiveJob payloads as Rails writes them (the fixtures are `ActiveSupport::JSON.encode(job.serialize)` from
/// Debian's ruby-activejob 6.1.7; the 7.x forms follow Rails' serializers), read as Warren jobs. Broker-free.
final class ActiveJobFormatTests: XCTestCase {
    private var registry: JobRegistry {
        var r = JobRegistry()
        r.register(Report.self, positionalArguments: ["file", "label"]) { _, _ in }
        r.register(name: "record", positionalArguments: ["file"]) { _, _ in }
        r.register(name: "ExactJob") { _, _ in }
        r.register(name: "billing.send-invoice") { _, _ in }
        r.register(name: "resize") { _, _ in }
        return r
    }

    /// A payload of class `job` with these serialized arguments (JSON text), as ActiveJob 6.1 writes it.
    private func payload(_ job: String = "ReportJob", id: String = "4eef1be5-ad2f-4097-a907-8c13d40e6b23", arguments: String,
                         executions: Int = 0, extra: String = "") -> String {
        #"{"job_class":"\#(job)","job_id":"\#(id)","provider_job_id":null,"queue_name":"default","priority":null,"arguments":\#(arguments),"executions":\#(executions),"exception_executions":{},"locale":"en","timezone":"Europe/Paris","enqueued_at":"2026-11-30T16:45:50Z"\#(extra)}"#
    }

    private func decode(_ body: String, format: ActiveJobFormat = ActiveJobFormat(), contentType: String? = "application/octet-stream",
                        headers: FieldTable? = nil) throws -> JobEnvelope? {
        // Bunny's defaults, as the Sneakers adapter publishes: persistent, priority 0, octet-stream, no message_id.
        let properties = BasicProperties(contentType: contentType, headers: headers, persistent: true, priority: 0)
        return try format.decode(properties: properties, body: Array(body.utf8), registry: registry)
    }

    private func object(_ envelope: JobEnvelope?) throws -> [String: Any] {
        let env = try XCTUnwrap(envelope)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(env.body)) as? [String: Any])
    }

    /// The arguments object the Swift job gets for `arguments` (JSON text), as canonical JSON text.
    private func arguments(_ arguments: String, job: String = "ReportJob") throws -> String {
        let env = try XCTUnwrap(try decode(payload(job, arguments: arguments)))
        let value = try JSONSerialization.jsonObject(with: Data(env.body))
        return String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    private func assertRefused(_ text: String, _ reason: DeadLetterReason, file: StaticString = #filePath, line: UInt = #line,
                               _ body: () throws -> JobEnvelope?) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? JobDecodingError else { return XCTFail("not a JobDecodingError: \(error)", file: file, line: line) }
            XCTAssertTrue(error.description.contains(text), "'\(error.description)' should contain '\(text)'", file: file, line: line)
            XCTAssertEqual(error.reason, reason, error.description, file: file, line: line)
        }
    }

    func testSneakersMessageBecomesAWarrenJob() throws {
        let keywords = #"["/tmp/r.txt",{"label":"monthly","_aj_ruby2_keywords":["label"]}]"#
        let env = try XCTUnwrap(try decode(payload(arguments: keywords)))
        XCTAssertEqual(env.name, "report", "ReportJob runs as the conventional name 'report'")
        XCTAssertEqual(env.id, "4eef1be5-ad2f-4097-a907-8c13d40e6b23", "job_id is the job id")
        XCTAssertEqual(env.properties.messageID, env.id)
        XCTAssertEqual(env.properties.contentType, WireFormat.contentType)
        XCTAssertEqual(env.properties.persistent, true)
        XCTAssertEqual(env.attempt, 1)
        XCTAssertEqual(env.enqueuedAt, Date(timeIntervalSince1970: 1_796_057_150))
        XCTAssertNil(env.runAt)
        XCTAssertEqual(env.headers[ActiveJobFormat.Header.jobClass], "ReportJob")
        XCTAssertEqual(env.headers[ActiveJobFormat.Header.locale], "en")
        XCTAssertEqual(env.headers[ActiveJobFormat.Header.timezone], "Europe/Paris")
        let report = try JSONArguments.decode(Report.self, from: env.body)
        XCTAssertEqual(report.file, "/tmp/r.txt")
        XCTAssertEqual(report.label, "monthly")
        // Read again as a Warren job (a retry or deferred copy): the same job.
        let again = try JobEnvelope(properties: env.properties, body: env.body)
        XCTAssertEqual(again.name, "report")
        XCTAssertEqual(again.id, env.id)
    }

    func testScalarsArraysAndHashes() throws {
        XCTAssertEqual(try arguments(#"[1,"two"]"#), #"{"file":1,"label":"two"}"#, "positional names in order")
        XCTAssertEqual(try arguments(#"[{"n":1,"ratio":0.5,"ok":true,"none":null,"list":[1,"a",[2]],"_aj_ruby2_keywords":["n","ratio","ok","none","list"]}]"#),
                       #"{"list":[1,"a",[2]],"n":1,"none":null,"ok":true,"ratio":0.5}"#, "keyword arguments keep their names")
        XCTAssertEqual(try arguments(#"[{"a":1,"_aj_symbol_keys":["a"]},{"b":{"c":2,"_aj_symbol_keys":[]},"_aj_symbol_keys":[]}]"#),
                       #"{"file":{"a":1},"label":{"b":{"c":2}}}"#, "symbol-keyed and string-keyed hashes lose their markers, nested too")
        XCTAssertEqual(try arguments(#"[{"x":1,"_aj_hash_with_indifferent_access":true}]"#), #"{"file":{"x":1}}"#, "HashWithIndifferentAccess")
        XCTAssertEqual(try arguments(#"[{"_aj_globalid":"gid://shop/User/7"}]"#), #"{"file":"gid://shop/User/7"}"#, "GlobalID -> its gid:// string")
        XCTAssertEqual(try arguments(#"[[{"_aj_globalid":"gid://shop/User/7"},{"k":{"_aj_globalid":"gid://shop/Order/9"},"_aj_symbol_keys":["k"]}]]"#),
                       #"{"file":["gid://shop/User/7",{"k":"gid://shop/Order/9"}]}"#, "GlobalIDs inside arrays and hashes")
        XCTAssertEqual(try arguments("[]"), "{}")
    }

    func testSerializedRubyValues() throws {
        func one(_ serialized: String) throws -> String { try arguments("[\(serialized)]") }
        let s = "ActiveJob::Serializers::"
        XCTAssertEqual(try one(#"{"_aj_serialized":"\#(s)SymbolSerializer","value":"low"}"#), #"{"file":"low"}"#)
        XCTAssertEqual(try one(#"{"_aj_serialized":"\#(s)ModuleSerializer","value":"Billing::Invoice"}"#), #"{"file":"Billing::Invoice"}"#)
        XCTAssertEqual(try one(#"{"_aj_serialized":"\#(s)TimeSerializer","value":"2024-01-02T03:04:05.123456000Z"}"#),
                       #"{"file":"2024-01-02T03:04:05.123456000Z"}"#, "Time: the text as Rails wrote it")
        XCTAssertEqual(try one(#"{"_aj_serialized":"\#(s)TimeWithZoneSerializer","value":"2024-06-01T12:00:00.000000000+02:00"}"#),
                       #"{"file":"2024-06-01T12:00:00.000000000+02:00"}"#, "TimeWithZone (6.1)")
        XCTAssertEqual(try one(#"{"_aj_serialized":"\#(s)TimeWithZoneSerializer","value":"2024-06-01T12:00:00.000000000+02:00","time_zone":"Europe/Paris"}"#),
                       #"{"file":"2024-06-01T12:00:00.000000000+02:00"}"#, "TimeWithZone (7.x, with its zone name)")
        XCTAssertEqual(try one(#"{"_aj_serialized":"\#(s)DateTimeSerializer","value":"2024-01-02T03:04:05.000000000+00:00"}"#),
                       #"{"file":"2024-01-02T03:04:05.000000000+00:00"}"#)
        XCTAssertEqual(try one(#"{"_aj_serialized":"\#(s)DateSerializer","value":"2024-02-29"}"#), #"{"file":"2024-02-29"}"#)
        XCTAssertEqual(try one(#"{"_aj_serialized":"\#(s)DurationSerializer","value":5400,"parts":[[{"_aj_serialized":"\#(s)SymbolSerializer","value":"hours"},1],[{"_aj_serialized":"\#(s)SymbolSerializer","value":"minutes"},30]]}"#),
                       #"{"file":5400}"#, "Duration: seconds")
        XCTAssertEqual(try one(#"{"_aj_serialized":"\#(s)DurationSerializer","value":1.5,"parts":[["seconds",1.5]]}"#), #"{"file":1.5}"#)
        XCTAssertEqual(try one(#"{"_aj_serialized":"\#(s)BigDecimalSerializer","value":"0.123456789012345678901e2"}"#),
                       #"{"file":"12.3456789012345678901"}"#, "BigDecimal (7.1): exact digits, as Rails 6.1 sends it")
        XCTAssertEqual(try one(#""12.3456789012345678901""#), #"{"file":"12.3456789012345678901"}"#, "BigDecimal (6.1): a plain string")
        XCTAssertEqual(ActiveJobFormat.time("2024-06-01T12:00:00.123456789+02:00")?.millisecondsSince1970, 1_717_236_000_123)
    }

    func testBigDecimalText() {
        let cases: [(String, String?)] = [
            ("0.12345e2", "12.345"), ("-0.5e-3", "-0.0005"), ("0.12e2", "12.0"), ("12.5", "12.5"), ("0.0", "0.0"),
            ("-0.0", "0.0"), ("0.1e1", "1.0"), ("0.123e5", "12300.0"), ("+7", "7.0"), ("0.5E-1", "0.05"),
            ("NaN", nil), ("Infinity", nil), ("-Infinity", nil), ("1e99999", nil), ("1.2.3", nil), ("", nil), ("e5", nil),
        ]
        for (text, plain) in cases { XCTAssertEqual(ActiveJobSerializers.plainDecimal(text), plain, text) }
    }

    func testClassNamesMapToSwiftJobs() throws {
        XCTAssertEqual(ActiveJobClassNames.conventionalName(of: "RecordJob"), "record")
        XCTAssertEqual(ActiveJobClassNames.conventionalName(of: "SendHTMLEmailJob"), "send-html-email")
        XCTAssertEqual(ActiveJobClassNames.conventionalName(of: "Billing::SendInvoiceJob"), "billing.send-invoice")
        XCTAssertEqual(ActiveJobClassNames.conventionalName(of: "Job"), "job")
        XCTAssertEqual(ActiveJobClassNames.conventionalName(of: "Resize2xJob"), "resize2x")
        XCTAssertEqual(ActiveJobClassNames.conventionalName(of: "V2Importer"), "v2-importer")
        XCTAssertEqual(try decode(payload("RecordJob", arguments: "[\"f\"]"))?.name, "record")
        XCTAssertEqual(try decode(payload("ExactJob", arguments: "[]"))?.name, "ExactJob", "a job registered under the class name")
        XCTAssertEqual(try decode(payload("Billing::SendInvoiceJob", arguments: "[]"))?.name, "billing.send-invoice")
        let mapped = ActiveJobFormat(jobNames: ["ImageJob": "resize", "RecordJob": "resize"])
        XCTAssertEqual(try decode(payload("ImageJob", arguments: "[]"), format: mapped)?.name, "resize", "explicit mapping")
        XCTAssertEqual(try decode(payload("RecordJob", arguments: "[]"), format: mapped)?.name, "resize", "explicit mapping wins")
        assertRefused("register one named 'ImageJob' or 'image'", .unknownJob) { try self.decode(self.payload("ImageJob", arguments: "[]")) }
        assertRefused("register one named 'nope'", .unknownJob) {
            try self.decode(self.payload("ImageJob", arguments: "[]"), format: ActiveJobFormat(jobNames: ["ImageJob": "nope"]))
        }
    }

    func testExecutionsScheduleAndAttemptHeader() throws {
        let retried = try XCTUnwrap(try decode(payload(arguments: "[\"f\"]", executions: 2)))
        XCTAssertEqual(retried.attempt, 3, "executions 2 -> attempt 3")
        let requeued = try XCTUnwrap(try decode(payload(arguments: "[\"f\"]", executions: 2), headers: [WireFormat.Header.attempt: .int32(1)]))
        XCTAssertEqual(requeued.attempt, 1, "an attempt header (set by a requeue) wins over executions")
        let at = try XCTUnwrap(try decode(payload(arguments: "[\"f\"]", extra: #","scheduled_at":"2031-05-06T07:08:09.123456789Z""#)))
        XCTAssertEqual(at.runAt?.millisecondsSince1970, 1_935_817_689_123, "Rails 7.1 scheduled_at")
        XCTAssertEqual(at.headers[WireFormat.Header.runAt]?.intValue, 1_935_817_689_123)
        let number = try XCTUnwrap(try decode(payload(arguments: "[\"f\"]", extra: #","scheduled_at":1935817689.5"#)))
        XCTAssertEqual(number.runAt?.millisecondsSince1970, 1_935_817_689_500, "scheduled_at as epoch seconds")
        XCTAssertNil(try decode(payload(arguments: "[\"f\"]", extra: #","scheduled_at":null"#))?.runAt)
    }

    func testWhichMessagesAreActiveJobs() throws {
        let body = payload(arguments: "[\"f\"]")
        XCTAssertNotNil(try decode(body, contentType: nil))
        XCTAssertNotNil(try decode(body, contentType: "application/json"))
        XCTAssertNil(try decode(body, contentType: "text/plain"), "another content type: not ours")
        XCTAssertNil(try decode(body, headers: [WireFormat.Header.job: "report"]), "warren-job wins")
        XCTAssertNil(try decode(#"{"file":"f"}"#, contentType: "application/json"), "a JSON object without job_class")
        XCTAssertNil(try decode("[1]", contentType: "application/json"))
        XCTAssertNil(try decode("x", headers: ["task": "t", "id": "1"]), "an octet-stream Celery message is Celery's to refuse")
        assertRefused("is not an ActiveJob payload", .undecodable) { try self.decode("hello") }
        assertRefused("is not an ActiveJob payload", .undecodable) { try self.decode(#"{"file":"f"}"#) }
        // The worker's path: the Warren reader alone refuses octet-stream.
        XCTAssertThrowsError(try JobEnvelope(properties: BasicProperties(contentType: "application/octet-stream", headers: [WireFormat.Header.job: "x"]), body: []))
    }

    func testMalformedPayloadsAreRefused() {
        assertRefused("'job_class' must be the job's class name", .undecodable) { try self.decode(#"{"job_class":7,"job_id":"1","arguments":[]}"#) }
        assertRefused("'job_id' is missing or empty", .undecodable) { try self.decode(#"{"job_class":"ReportJob","arguments":[]}"#) }
        assertRefused("'job_id' is missing or empty", .undecodable) { try self.decode(#"{"job_class":"ReportJob","job_id":"","arguments":[]}"#) }
        assertRefused("'job_id' must be a string", .undecodable) { try self.decode(#"{"job_class":"ReportJob","job_id":5,"arguments":[]}"#) }
        assertRefused("'arguments' is missing", .undecodable) { try self.decode(#"{"job_class":"ReportJob","job_id":"1"}"#) }
        assertRefused("'arguments' must be a list", .undecodable) { try self.decode(#"{"job_class":"ReportJob","job_id":"1","arguments":{}}"#) }
        assertRefused("'executions' must be a whole number", .undecodable) { try self.decode(self.payload(arguments: "[]", extra: "").replacingOccurrences(of: #""executions":0"#, with: #""executions":"2""#)) }
        assertRefused("'executions' is negative", .undecodable) { try self.decode(self.payload(arguments: "[]", executions: -1)) }
        assertRefused("'enqueued_at' is not an ISO-8601 time", .undecodable) { try self.decode(self.payload(arguments: "[]").replacingOccurrences(of: "2026-11-30T16:45:50Z", with: "yesterday")) }
        assertRefused("'scheduled_at' is not an ISO-8601 time", .undecodable) { try self.decode(self.payload(arguments: "[]", extra: #","scheduled_at":"soon""#)) }
        assertRefused("'locale' must be a string", .undecodable) { try self.decode(self.payload(arguments: "[]").replacingOccurrences(of: #""locale":"en""#, with: #""locale":1"#)) }
    }

    func testMalformedArgumentsAreRefused() {
        func refuse(_ arguments: String, _ text: String, _ reason: DeadLetterReason = .invalidArguments, line: UInt = #line) {
            assertRefused(text, reason, line: line) { try self.decode(self.payload(arguments: arguments)) }
        }
        let s = "ActiveJob::Serializers::"
        refuse(#"[{"a":1,"_aj_ruby2_keywords":["a"]},"f"]"#, #"arguments[0] is a keyword-arguments hash (_aj_ruby2_keywords) but is not the last argument"#)
        refuse(#"[{"a":1,"_aj_symbol_keys":"a"}]"#, #"arguments[0] has a malformed '_aj_symbol_keys'"#)
        refuse(#"[{"a":1,"_aj_ruby2_keywords":[1]}]"#, #"has a malformed '_aj_ruby2_keywords'"#)
        refuse(#"[{"a":1,"_aj_hash_with_indifferent_access":"yes"}]"#, #"malformed '_aj_hash_with_indifferent_access'"#)
        refuse(#"[{"_aj_globalid":"gid://shop/User/7","x":1}]"#, "arguments[0] is not a GlobalID reference")
        refuse(#"[{"_aj_globalid":"User/7"}]"#, "is not a GlobalID reference")
        refuse(#"[[{"deep":{"_aj_globalid":7},"_aj_symbol_keys":[]}]]"#, #"arguments[0][0]["deep"] is not a GlobalID reference"#)
        refuse(#"[{"_aj_serialized":5}]"#, "malformed '_aj_serialized'")
        refuse(#"[{"_aj_serialized":"\#(s)SymbolSerializer"}]"#, "is a Symbol (\(s)SymbolSerializer) without a string 'value'")
        refuse(#"[{"_aj_serialized":"\#(s)ModuleSerializer","value":1}]"#, "is a Module")
        refuse(#"[{"_aj_serialized":"\#(s)TimeSerializer","value":"yesterday"}]"#, "whose value is not ISO-8601: yesterday")
        refuse(#"[{"_aj_serialized":"\#(s)DateSerializer","value":"2024-13-01"}]"#, "whose value is not YYYY-MM-DD: 2024-13-01")
        refuse(#"[{"_aj_serialized":"\#(s)DurationSerializer","value":"1 hour"}]"#, "is a Duration")
        refuse(#"[{"_aj_serialized":"\#(s)DurationSerializer","value":true}]"#, "is a Duration")
        refuse(#"[{"_aj_serialized":"\#(s)BigDecimalSerializer","value":"NaN"}]"#, "is a BigDecimal (\(s)BigDecimalSerializer) that is not a finite number: NaN")
        refuse(#"[{"_aj_serialized":"\#(s)RangeSerializer","begin":1,"end":3,"exclude_end":false}]"#,
               "arguments[0] is a Range (\(s)RangeSerializer), which Warren cannot pass to a Swift job", .unsupported)
        refuse(#"["f",{"price":{"_aj_serialized":"MoneySerializer","cents":500},"_aj_ruby2_keywords":["price"]}]"#,
               #"arguments[1]["price"] was written by the custom serializer MoneySerializer, which only Ruby can read"#, .unsupported)
        refuse(#"["f","label","extra"]"#, "ActiveJob ReportJob (Swift job 'report') takes 2 positional argument(s) (file, label) but was sent 3: pass keyword arguments")
        refuse(#"["f",{"file":"g","_aj_ruby2_keywords":["file"]}]"#, "got multiple values for argument 'file' (positional and keyword)")
        assertRefused("takes no positional arguments but was sent 1", .invalidArguments) {
            try self.decode(self.payload("ExactJob", arguments: "[1]"))
        }
    }

    func testForeignFormatBindsTheExchange() {
        XCTAssertEqual(ForeignFormat.activeJob.name, "activejob")
        XCTAssertEqual(ForeignFormat.activeJob.exchanges, ["sneakers"], "Sneakers' default exchange")
        XCTAssertEqual(ForeignFormat.activeJob(ActiveJobFormat(exchange: "rails.jobs")).exchanges, ["rails.jobs"])
        XCTAssertEqual(ForeignFormat.celery.exchanges, [], "Celery publishes to the default exchange")
    }
}
