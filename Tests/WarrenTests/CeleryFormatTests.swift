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
        assertRefused("'chord' is not a signature") { try self.celery(body: #"[[1], {}, {"chord": [1]}]"#) }
        assertRefused("'chain' holds a group") { try self.celery(body: #"[[1], {}, {"chain": [{"task": "g", "subtask_type": "group"}]}]"#) }
        assertRefused("a signature in 'callbacks' has no task name") { try self.celery(body: #"[[1], {}, {"callbacks": [{"args": []}]}]"#) }
        assertRefused("task_serializer='json'") { try self.celery(contentType: "application/x-python-serialize", body: "x") }
        assertRefused("not valid JSON") { try self.celery(body: "[[1], {") }
        assertRefused("[args, kwargs, embed]") { try self.celery(body: #"{"ms": 1}"#) }
        assertRefused("takes 2 positional argument(s) (ms, label) but was sent 3") { try self.celery(body: #"[[1, "a", 3], {}, {}]"#) }
        assertRefused("takes no positional arguments") { try self.celery("tasks.raw", body: #"[[1], {}, {}]"#) }
        assertRefused("multiple values for argument 'ms'") { try self.celery(body: #"[[1], {"ms": 2}, {}]"#) }
        assertRefused("header 'eta' is not an ISO-8601 time") { try self.celery(eta: "tomorrow", body: #"[[1], {}, {}]"#) }
        assertRefused("unset task_compression") { try self.celery(extra: ["compression": "application/x-gzip"], body: "[]") }
    }

    func testCanvasIsKeptAndSendsTheNextChainTaskCallbacksAndErrbacksAsCeleryMessages() throws {
        let body = #"[[1], {}, {"chain": [{"task": "c", "args": [], "kwargs": {}, "options": {"task_id": "id-c"}}, {"task": "b", "args": [5], "kwargs": {"k": 1}, "options": {"task_id": "id-b", "link_error": [{"task": "oops"}]}}], "callbacks": [{"task": "log", "args": [], "immutable": true}], "errbacks": [{"task": "cleanup", "args": ["x"]}], "chord": null}]"#
        let env = try XCTUnwrap(try celery(body: body))
        let canvas = try CeleryCanvas(header: try XCTUnwrap(env.headers[WorkflowHeader.celeryCanvas]))
        let sent = try canvas.afterSuccess(result: Array("42".utf8), parent: "c-1", headers: env.headers, queue: "q")
        XCTAssertEqual(sent.map(\.id), ["id-b", "c-1.link-1"])
        XCTAssertEqual(sent.map(\.queue), ["q", "q"])
        func parts(_ m: CeleryCanvas.Message) throws -> [Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(m.message.body)) as? [Any])
        }
        let next = try parts(sent[0])
        XCTAssertEqual(next[0] as? [Int], [42, 5], "the result goes first, then the signature's own args")
        XCTAssertEqual(next[1] as? [String: Int], ["k": 1])
        let embed = try XCTUnwrap(next[2] as? [String: Any])
        XCTAssertEqual((embed["chain"] as? [[String: Any]])?.map { $0["task"] as? String }, ["c"], "the rest of the chain goes along")
        XCTAssertEqual((embed["errbacks"] as? [[String: Any]])?.map { $0["task"] as? String }, ["oops"])
        let headers = sent[0].message.properties.headers ?? [:]
        XCTAssertEqual(headers["task"], "b")
        XCTAssertEqual(headers["parent_id"], "c-1")
        XCTAssertEqual(headers["root_id"], "c-1")
        XCTAssertEqual(sent[0].message.exchange, "")
        XCTAssertEqual(try parts(sent[1])[0] as? [Int], [], "an immutable callback gets no result")
        let errbacks = try canvas.afterDeath(parent: "c-1", headers: env.headers, queue: "q")
        XCTAssertEqual(errbacks.map(\.id), ["c-1.link-error-1"])
        XCTAssertEqual(try parts(errbacks[0])[0] as? [String], ["c-1", "x"], "an errback gets the failed task's id")
        XCTAssertNil(try celery(body: #"[[1], {}, {"callbacks": null, "chain": []}]"#)?.headers[WorkflowHeader.celeryCanvas])
    }
}
