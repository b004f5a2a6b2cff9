import Foundation
@testable import Warren
import WarrenAMQP
import XCTest

/// Celery chords without a broker: the `celery.chord_unlock` message as Celery 5.7 sends it (captured from a
/// real app with `backend="file://..."`), read as a job, and the unlock's decision on each poll.
final class CeleryChordTests: XCTestCase {
    static let group = "3753b99e-33fb-478b-bb3e-96d61f1ade14"
    static let bodyID = "ba5a69d4-0a37-4dc4-97a5-36db08e341b7"
    static let headers = ["c3e6aee1-d65f-46be-9d5a-c59dcf3d9e31", "f8f4a35b-7e3f-4830-956c-401683ad1f07", "57f0305f-01b5-4f17-9709-2746d1d0d6d2"]

    /// The body of the unlock of `chord([add.s(1, 1), add.s(2, 2), add.s(3, 3)], tsum.s())`, as captured.
    static func unlockBody(group: String = group, bodyID: String = bodyID, headers: [String] = headers, interval: String = "null",
                           maxRetries: String = "null", bodyOptions: String = "") -> String {
        let results = headers.map { #"[["\#($0)", null], null]"# }.joined(separator: ", ")
        return #"[["\#(group)", {"task": "tsum", "args": [], "kwargs": {}, "options": {\#(bodyOptions)"task_id": "\#(bodyID)", "reply_to": "99811665-9714-3cf3-8d5c-5fac41fb7ba4", "group_id": "\#(group)"}, "subtask_type": null, "immutable": false}], {"interval": \#(interval), "max_retries": \#(maxRetries), "result": [\#(results)], "_chord_unlock_exchange_type": "direct"}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]"#
    }

    /// The unlock read as the worker reads it (Celery format, positional args named by the registration).
    static func chord(_ body: String = unlockBody()) throws -> CeleryChord {
        var registry = JobRegistry()
        CeleryChordUnlock.register(in: &registry, store: nil)
        let headers: FieldTable = ["lang": "py", "task": "celery.chord_unlock", "id": "116a81ab-da09-4ed3-8b12-6b0fe50a7552",
                                   "eta": "2026-11-30T23:12:49.815463+00:00", "retries": .int32(0), "group": .void]
        let properties = BasicProperties(contentType: "application/json", contentEncoding: "utf-8", headers: headers, persistent: true)
        let envelope = try XCTUnwrap(try CeleryFormat.decode(properties: properties, body: Array(body.utf8), registry: registry))
        return try CeleryChord(unlockArguments: envelope.body)
    }

    private func succeeded(_ id: String, _ result: String?) -> JobStatus {
        var s = JobStatus(id: id, state: .succeeded, attempt: 1)
        s.result = result
        return s
    }

    func testTheUnlockCelerySendsIsReadWithItsHeaderTasksInOrder() throws {
        let c = try Self.chord()
        XCTAssertEqual(c.groupID, Self.group)
        XCTAssertEqual(c.headerTaskIDs, Self.headers)
        XCTAssertEqual(c.bodyTask, "tsum")
        XCTAssertEqual(c.bodyID, Self.bodyID, "the body keeps the task id Celery froze")
        XCTAssertEqual(c.interval, .seconds(1), "null interval: Celery's default")
        XCTAssertEqual(c.maxRetries, CeleryChord.defaultMaxRetries)
        let custom = try Self.chord(Self.unlockBody(interval: "0.5", maxRetries: "7"))
        XCTAssertEqual(custom.interval, .milliseconds(500))
        XCTAssertEqual(custom.maxRetries, 7)
    }

    func testAllSucceededIsReadyWithTheResultsInHeaderOrder() throws {
        let c = try Self.chord()
        let d = c.decide([succeeded(Self.headers[0], "2"), succeeded(Self.headers[1], "4"), succeeded(Self.headers[2], nil)], retries: 0)
        XCTAssertEqual(d, .ready(results: ["2", "4", "null"]))
    }

    func testUnfinishedHeaderTasksWaitThenGiveUpAtMaxRetries() throws {
        let c = try Self.chord(Self.unlockBody(maxRetries: "3"))
        let states = [succeeded(Self.headers[0], "2"), JobStatus(id: Self.headers[1], state: .running, attempt: 1), JobStatus.unknown(Self.headers[2])]
        XCTAssertEqual(c.decide(states, retries: 0), .wait(pending: [Self.headers[1], Self.headers[2]]))
        XCTAssertEqual(c.decide(states, retries: 2), .wait(pending: [Self.headers[1], Self.headers[2]]))
        guard case .gaveUp(let pending, let why) = c.decide(states, retries: 3) else { return XCTFail("expected gaveUp") }
        XCTAssertEqual(pending, [Self.headers[1], Self.headers[2]])
        XCTAssertTrue(why.contains("gave up after 3 polls (max_retries 3)") && why.contains(Self.headers[2]), why)
    }

    func testADeadHeaderTaskFailsTheChordAtOnceNamingIt() throws {
        let c = try Self.chord()
        var dead = JobStatus(id: Self.headers[1], state: .dead, attempt: 3)
        dead.deadReason = "exhausted"
        dead.lastError = "JobFailure: boom"
        let d = c.decide([succeeded(Self.headers[0], "2"), dead, JobStatus(id: Self.headers[2], state: .running, attempt: 1)], retries: 0)
        guard case .failed(let ids, let why) = d else { return XCTFail("expected failed, got \(d)") }
        XCTAssertEqual(ids, [Self.headers[1]])
        XCTAssertTrue(why.contains("\(Self.headers[1]) dead (exhausted: JobFailure: boom)") && why.contains("the body does not run"), why)
        let omitted = succeeded(Self.headers[0], #"{"warren-result-omitted":"70000 bytes, over the store's limit of 65536"}"#)
        guard case .failed(let big, _) = c.decide([omitted, succeeded(Self.headers[1], "4"), succeeded(Self.headers[2], "6")], retries: 0)
        else { return XCTFail("a result the store did not keep fails the chord") }
        XCTAssertEqual(big, [Self.headers[0]])
    }

    func testTheBodyGetsTheResultsListPrependedUnderItsFrozenIDAndErrbacksTheBodyID() throws {
        let c = try Self.chord(Self.unlockBody(bodyOptions: #""queue": "sums", "link_error": {"task": "onerr", "args": [], "kwargs": {}, "options": {}, "subtask_type": null, "immutable": false}, "#))
        let body = try CeleryChordUnlock.bodyMessage(c, results: ["2", "4", "6"], unlock: "u-1", queue: "q")
        XCTAssertEqual(body.id, Self.bodyID)
        XCTAssertEqual(body.queue, "sums")
        XCTAssertEqual(body.message.properties.headers?["task"]?.stringValue, "tsum")
        XCTAssertEqual(body.message.properties.headers?["id"]?.stringValue, Self.bodyID)
        let parts = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body.message.body)) as? [Any])
        XCTAssertEqual(parts[0] as? [[Int]], [[2, 4, 6]], "args: the list of header results")
        XCTAssertNotNil((parts[2] as? [String: Any])?["errbacks"] as? [Any], "the body keeps its link_error")
        let errbacks = try CeleryChordUnlock.errbackMessages(c, unlock: "u-1", queue: "q")
        XCTAssertEqual(errbacks.map(\.id), ["\(Self.bodyID).link-error-1"])
        let eparts = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(errbacks[0].message.body)) as? [Any])
        XCTAssertEqual(eparts[0] as? [String], [Self.bodyID], "an errback gets the body's task id, as Celery's chord_error_from_stack")
        XCTAssertEqual(try CeleryChordUnlock.errbackMessages(try Self.chord(), unlock: "u", queue: "q").count, 0)
    }

    func testMalformedUnlocksAreRefusedWithAReason() throws {
        XCTAssertThrowsError(try CeleryChord(unlockArguments: Array(#"{"group_id": "g", "callback": {"task": "t"}}"#.utf8))) {
            XCTAssertTrue("\($0)".contains("'result' (the header task ids) is missing"), "\($0)")
        }
        XCTAssertThrowsError(try CeleryChord(unlockArguments: Array(#"{"group_id": "g", "callback": {"task": "c", "subtask_type": "chain"}, "result": []}"#.utf8))) {
            XCTAssertEqual(($0 as? ArgumentsError)?.reason, .unsupported)
        }
    }

    func testAChordHeaderTaskIsAPlainJobCarryingTheBody() throws {
        var registry = JobRegistry()
        registry.register(name: "add", positionalArguments: ["x", "y"]) { _, _ in }
        let headers: FieldTable = ["task": "add", "id": .string(Self.headers[0]), "group": .string(Self.group), "group_index": .int32(0)]
        let body = #"[[1, 1], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": {"task": "tsum", "args": [], "kwargs": {}, "options": {"task_id": "b"}, "subtask_type": null, "immutable": false}}]"#
        let env = try XCTUnwrap(try CeleryFormat.decode(properties: BasicProperties(contentType: "application/json", headers: headers),
                                                        body: Array(body.utf8), registry: registry))
        let canvas = try CeleryCanvas(header: try XCTUnwrap(env.headers[WorkflowHeader.celeryCanvas]))
        XCTAssertTrue(canvas.isChordHeader)
        XCTAssertTrue(try canvas.afterSuccess(result: Array("2".utf8), parent: Self.headers[0], headers: headers, queue: "q").isEmpty,
                      "a header task publishes nothing itself: the unlock publishes the body")
    }
}
