import Foundation
import Warren
import WarrenAMQP
import XCTest

private struct CelerySleep: JobParameters {
    static let jobName = "tasks.sleep"
    var ms: Int
    var label: String?
}

/// Celery protocol 2 messages as `celery==5.x` `send_task` writes them, read as Warren jobs.
final class CeleryFormatTests: XCTestCase {
    private var registry: JobRegistry {
        var r = JobRegistry()
        r.register(CelerySleep.self, positionalArguments: ["ms", "label"]) { _, _ in }
        r.register(name: "tasks.raw") { _, _ in }
        return r
    }

    /// Headers and properties as Celery 5.7 sends them (None values are AMQP void).
    private func celery(_ task: String = CelerySleep.jobName, id: String = "c-1", retries: Int = 0, eta: FieldValue = .void,
                        expires: FieldValue = .void, extra: FieldTable = [:], contentType: String = "application/json",
                        body: String) throws -> JobEnvelope? {
        var headers: FieldTable = [
            "lang": "py", "task": .string(task), "id": .string(id), "shadow": .void, "eta": eta, "expires": expires,
            "group": .void, "group_index": .void, "retries": .int32(Int32(retries)), "timelimit": .array([.void, .void]),
            "root_id": .string(id), "parent_id": .void, "argsrepr": "(1,)", "kwargsrepr": "{}", "origin": "gen1@host",
            "ignore_result": .bool(false), "replaced_task_nesting": .int32(0), "stamped_headers": .void, "stamps": .table([:]),
        ]
        headers.merge(extra) { $1 }
        let properties = BasicProperties(contentType: contentType, contentEncoding: "utf-8", headers: headers,
                                         persistent: true, priority: 0, correlationID: id, replyTo: "reply-oid")
        return try CeleryFormat.decode(properties: properties, body: Array(body.utf8), registry: registry)
    }

    private func arguments(_ envelope: JobEnvelope?) throws -> NSDictionary {
        let env = try XCTUnwrap(envelope)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(env.body)) as? NSDictionary)
    }

    private func assertRefused(_ message: String, file: StaticString = #filePath, line: UInt = #line,
                               _ body: () throws -> JobEnvelope?) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let text = (error as? JobDecodingError)?.description ?? "not a JobDecodingError: \(error)"
            XCTAssertTrue(text.contains(message), "'\(text)' should contain '\(message)'", file: file, line: line)
        }
    }

    func testPositionalAndKeywordArgumentsBecomeOneObject() throws {
        let env = try XCTUnwrap(try celery(body: #"[[250], {"label": "py/1"}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]"#))
        XCTAssertEqual(env.name, "tasks.sleep")
        XCTAssertEqual(env.id, "c-1")
        XCTAssertEqual(env.properties.messageID, "c-1")
        XCTAssertEqual(env.attempt, 1)
        XCTAssertNil(env.runAt)
        XCTAssertNil(env.expiresAt)
        XCTAssertEqual(String(decoding: env.body, as: UTF8.self), #"{"label":"py/1","ms":250}"#)
        XCTAssertEqual(env.headers["argsrepr"], "(1,)", "Celery headers are kept")
        XCTAssertEqual(try JSONArguments.decode(CelerySleep.self, from: env.body).ms, 250)
    }

    func testKeywordOnlyAndTypesArePreserved() throws {
        let args = try arguments(try celery(body: #"[[], {"ms": 5, "label": null, "flag": true, "n": 1.5, "list": [1, "a"]}, {}]"#))
        XCTAssertEqual(args["ms"] as? Int, 5)
        XCTAssertTrue(args["label"] is NSNull)
        XCTAssertEqual(args["flag"] as? Bool, true)
        XCTAssertEqual(args["n"] as? Double, 1.5)
        XCTAssertEqual((args["list"] as? [Any])?.count, 2)
    }

    func testRetriesEtaAndExpires() throws {
        let env = try XCTUnwrap(try celery(retries: 2, eta: "2031-05-06T07:08:09.123456+00:00",
                                           expires: "2031-05-06T09:08:09.5+02:00", body: #"[[1], {}, {}]"#))
        XCTAssertEqual(env.attempt, 3)
        XCTAssertEqual(env.runAt?.millisecondsSince1970, 1_935_817_689_123)
        XCTAssertEqual(env.expiresAt?.millisecondsSince1970, 1_935_817_689_500)
        XCTAssertEqual(env.headers[WireFormat.Header.runAt]?.intValue, 1_935_817_689_123, "run-at goes on in Warren's header")
        // Naive times (enable_utc=False without a zone) read as UTC.
        let naive = try XCTUnwrap(try celery(eta: "2031-05-06T07:08:09", body: #"[[1], {}, {}]"#))
        XCTAssertEqual(naive.runAt?.millisecondsSince1970, 1_935_817_689_000)
    }

    func testNotCeleryReturnsNil() throws {
        let plain = BasicProperties(contentType: "application/json", headers: ["x": "y"])
        XCTAssertNil(try CeleryFormat.decode(properties: plain, body: Array("{}".utf8), registry: registry))
        let warren = BasicProperties(headers: [WireFormat.Header.job: "noop", "task": "t", "id": "1"])
        XCTAssertNil(try CeleryFormat.decode(properties: warren, body: [], registry: registry), "warren-job wins")
    }

    func testUnknownTaskKeepsTheCeleryBody() throws {
        let body = #"[[1, 2], {}, {}]"#
        let env = try XCTUnwrap(try celery("tasks.nope", body: body))
        XCTAssertEqual(env.name, "tasks.nope")
        XCTAssertEqual(String(decoding: env.body, as: UTF8.self), body)
    }

    func testRefusedWithActionableMessages() {
        assertRefused("uses callbacks") { try self.celery(body: #"[[1], {}, {"callbacks": [{"task": "t2"}], "errbacks": null, "chain": null, "chord": null}]"#) }
        assertRefused("uses chain, chord") { try self.celery(body: #"[[1], {}, {"chain": [{"task": "t2"}], "chord": {"task": "t3"}}]"#) }
        assertRefused("task_serializer='json'") { try self.celery(contentType: "application/x-python-serialize", body: "x") }
        assertRefused("not valid JSON") { try self.celery(body: "[[1], {") }
        assertRefused("[args, kwargs, embed]") { try self.celery(body: #"{"ms": 1}"#) }
        assertRefused("takes 2 positional argument(s) (ms, label) but was sent 3") { try self.celery(body: #"[[1, "a", 3], {}, {}]"#) }
        assertRefused("takes no positional arguments") { try self.celery("tasks.raw", body: #"[[1], {}, {}]"#) }
        assertRefused("multiple values for argument 'ms'") { try self.celery(body: #"[[1], {"ms": 2}, {}]"#) }
        assertRefused("header 'eta' is not an ISO-8601 time") { try self.celery(eta: "tomorrow", body: #"[[1], {}, {}]"#) }
        assertRefused("unset task_compression") { try self.celery(extra: ["compression": "application/x-gzip"], body: "[]") }
    }
}
