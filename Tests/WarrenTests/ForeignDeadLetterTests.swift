import Foundation
@testable import Warren
import WarrenAMQP
import XCTest

/// Dead letters that carry no `warren-*` dead-letter headers (the broker dead-lettered them, or a worker refused
/// them before reading them): their id, job, reason, attempts and time come from Celery's headers, an ActiveJob
/// body and the broker's `x-death`. Broker-free.
final class ForeignDeadLetterTests: XCTestCase {
    private let diedAt = Date(timeIntervalSince1970: 1_790_000_000)

    /// The headers RabbitMQ 3.10 adds when it dead-letters a message from `queue` for `reason`.
    private func brokerHeaders(_ reason: String, queue: String) -> FieldTable {
        ["x-death": .array([.table(["count": .int64(1), "reason": .string(reason), "queue": .string(queue),
                                    "time": .timestamp(UInt64(diedAt.timeIntervalSince1970)), "exchange": "",
                                    "routing-keys": .array([.string(queue)]), "original-expiration": "1"])]),
         "x-first-death-exchange": "", "x-first-death-queue": .string(queue), "x-first-death-reason": .string(reason)]
    }

    /// A Celery task whose `expires` became the AMQP expiration, after the broker expired it in `emails`.
    private func expiredCelery() -> DeadLetter {
        var headers: FieldTable = ["lang": "py", "task": "tasks.add", "id": "c-1", "retries": .int32(2),
                                   "expires": "2026-11-30T10:00:00.000001+00:00", "eta": .void, "root_id": "c-1"]
        headers.merge(brokerHeaders("expired", queue: "emails")) { $1 }
        let properties = BasicProperties(contentType: "application/json", contentEncoding: "utf-8", headers: headers,
                                         persistent: true, priority: 0, correlationID: "c-1")
        return DeadLetter(deadLetterQueue: "emails.dead", properties: properties, body: Array(#"[[1, 2], {}, {}]"#.utf8))
    }

    func testBrokerExpiredCeleryTaskListsWithIdJobReasonAndTime() throws {
        let letter = expiredCelery()
        XCTAssertEqual(letter.id, "c-1", "Celery's id header")
        XCTAssertEqual(letter.job, "tasks.add", "Celery's task header")
        XCTAssertEqual(letter.reason, "expired (broker)")
        XCTAssertEqual(letter.attempts, 3, "retries 2 -> attempt 3")
        XCTAssertEqual(letter.failedAt, diedAt, "x-death time")
        XCTAssertEqual(letter.brokerDeath, BrokerDeath(headers: letter.headers))
        XCTAssertEqual(letter.brokerDeath?.queue, "emails")
        XCTAssertEqual(letter.brokerDeath?.count, 1)
        XCTAssertTrue(letter.isBrokerDeadLetter)
        XCTAssertEqual(letter.workQueue, "emails")
        for reason in ["expired", "broker", "expired (broker)"] {
            XCTAssertTrue(DeadLetterFilter(reasons: [reason]).matches(letter), reason)
        }
        XCTAssertFalse(DeadLetterFilter(reasons: ["exhausted"]).matches(letter))
        XCTAssertTrue(DeadLetterFilter(ids: ["c-1"], jobs: ["tasks.add"]).matches(letter))
    }

    func testRequeueOfABrokerExpiredCeleryTaskDropsTheExpiry() throws {
        var letter = expiredCelery()
        letter.properties.expiration = "1"  // as if the broker had kept it
        let message = RequeueOptions().message(for: letter)
        let headers = try XCTUnwrap(message.properties.headers)
        XCTAssertNil(headers["expires"], "Celery's expiry is gone, or the job would expire again at once")
        XCTAssertNil(message.properties.expiration)
        for key in ["x-death", "x-first-death-queue", "x-first-death-reason", "x-first-death-exchange"] { XCTAssertNil(headers[key], key) }
        XCTAssertEqual(headers["task"], "tasks.add")
        XCTAssertEqual(headers["id"], "c-1")
        XCTAssertEqual(message.routingKey, "emails")
        XCTAssertEqual(message.body, letter.body)
        // The worker reads the requeued message as a job that has not expired.
        var registry = JobRegistry()
        registry.register(name: "tasks.add", positionalArguments: ["x", "y"]) { _, _ in }
        let envelope = try XCTUnwrap(try CeleryFormat.decode(properties: message.properties, body: message.body, registry: registry))
        XCTAssertNil(envelope.expiresAt)
        XCTAssertEqual(envelope.id, "c-1")
    }

    func testBrokerDeadActiveJobPayloadReadsItsBody() {
        let body = #"{"job_class":"RecordJob","job_id":"aj-1","arguments":["/tmp/x"],"executions":1,"queue_name":"default"}"#
        let properties = BasicProperties(contentType: "application/octet-stream", headers: brokerHeaders("rejected", queue: "default"),
                                         persistent: true, priority: 0)
        let letter = DeadLetter(deadLetterQueue: "default.dead", properties: properties, body: Array(body.utf8))
        XCTAssertEqual(letter.id, "aj-1", "job_id")
        XCTAssertEqual(letter.job, "RecordJob", "job_class")
        XCTAssertEqual(letter.attempts, 2, "executions 1 -> attempt 2")
        XCTAssertEqual(letter.reason, "rejected (broker)")
        XCTAssertEqual(letter.failedAt, diedAt)
        XCTAssertTrue(DeadLetterFilter(reasons: ["rejected"]).matches(letter))
        XCTAssertFalse(DeadLetterFilter(reasons: ["expired"]).matches(letter))
    }

    func testWorkerRefusedActiveJobKeepsWarrenReason() {
        // A worker refused it before reading it (unknown class): Warren's reason, the ActiveJob body's id and class.
        let body = #"{"job_class":"ImageJob","job_id":"aj-2","arguments":[],"executions":0}"#
        let headers: FieldTable = [WireFormat.Header.deadReason: "unknown-job", WireFormat.Header.errorType: "unknown-job",
                                   WireFormat.Header.errorMessage: "ActiveJob class ImageJob has no Swift job",
                                   WireFormat.Header.deadAt: .milliseconds(diedAt), WireFormat.Header.queue: "default"]
        let letter = DeadLetter(deadLetterQueue: "default.dead",
                                properties: BasicProperties(contentType: "application/octet-stream", headers: headers), body: Array(body.utf8))
        XCTAssertEqual(letter.id, "aj-2")
        XCTAssertEqual(letter.job, "ImageJob")
        XCTAssertEqual(letter.reason, "unknown-job")
        XCTAssertNil(letter.brokerDeath)
        XCTAssertFalse(DeadLetterFilter(reasons: ["broker"]).matches(letter))
    }

    func testWarrenReasonWinsOverBrokerBookkeeping() {
        var headers = brokerHeaders("expired", queue: "warren.delay.3")
        headers[WireFormat.Header.job] = "email"
        headers[WireFormat.Header.deadReason] = "exhausted"
        headers[WireFormat.Header.attempt] = .int32(5)
        headers[WireFormat.Header.expiresAt] = .milliseconds(diedAt.addingTimeInterval(3600))
        let letter = DeadLetter(deadLetterQueue: "q.dead", properties: BasicProperties(contentType: "application/json", headers: headers,
                                                                                       messageID: "w-1"), body: [])
        XCTAssertEqual(letter.id, "w-1")
        XCTAssertEqual(letter.job, "email")
        XCTAssertEqual(letter.reason, "exhausted")
        XCTAssertEqual(letter.attempts, 5)
        XCTAssertFalse(letter.isBrokerDeadLetter)
        XCTAssertFalse(DeadLetterFilter(reasons: ["expired"]).matches(letter), "an old delay-level expiry is not the reason")
        XCTAssertNotNil(RequeueOptions().message(for: letter).properties.headers?[WireFormat.Header.expiresAt],
                        "its expiry is kept on requeue: it did not expire")
    }

    func testAMessageWithNothingToReadStaysBlank() {
        let letter = DeadLetter(deadLetterQueue: "q.dead", properties: BasicProperties(contentType: "text/plain"), body: Array("hi".utf8))
        XCTAssertEqual(letter.id, "")
        XCTAssertEqual(letter.job, "")
        XCTAssertNil(letter.reason)
        XCTAssertEqual(letter.attempts, 1)
        XCTAssertNil(letter.failedAt)
    }
}
