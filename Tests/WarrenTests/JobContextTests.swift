import Foundation
import Synchronization
@testable import Warren
import WarrenAMQP
import XCTest

struct TestParent: JobParameters {
    static let jobName = "test-parent"
}

/// The metadata a job's logger carried, as the job read it.
final class LoggedMetadata: Sendable {
    let keys = Mutex<[String]>([])
}

final class JobContextTests: XCTestCase {
    func testContextAndTraceparentFlowIntoFollowUpJobs() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("trace"))
        let topology = Topology(queues: [q])
        let log = JobLog()
        let metadata = LoggedMetadata()
        var registry = JobRegistry()
        registry.register(TestParent.self) { _, ctx in
            let logger = ctx.logger  // made on first use, with the job's metadata
            metadata.keys.withLock { keys in
                keys = ["job.id", "job.name", "job.queue", "job.attempt", "trace.parent"].map { logger[metadataKey: $0].map { "\($0)" } ?? "-" }
            }
            await log.add("parent", ctx, note: ctx.traceparent ?? "none")
            try await ctx.enqueue(TestMark(label: "child"), options: .init(queue: ctx.queue))
        }
        registry.register(TestMark.self) { _, ctx in await log.add("child", ctx, note: ctx.traceparent ?? "none") }
        let (running, producer) = try await startWorker(conn, topology, registry)
        let ch = try await conn.openChannel()
        let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let id = try await producer.enqueue(TestParent(), options: .init(queue: q.name, jobID: "parent-1",
                                                                         headers: [WireFormat.Header.traceparent: .string(trace)]))
        XCTAssertEqual(id, "parent-1")
        let done = await log.wait { $0.count == 2 }
        XCTAssertTrue(done)
        let entries = await log.entries
        XCTAssertEqual(entries.map(\.note), [trace, trace])
        XCTAssertEqual(entries.first?.id, "parent-1")
        XCTAssertEqual(entries.first?.attempt, 1)
        XCTAssertNotEqual(entries.last?.id, "parent-1")
        XCTAssertEqual(metadata.keys.withLock { $0 }, ["parent-1", "test-parent", q.name, "1", trace])
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }

    func testEnvelopeReadsLenientHeadersFromOtherLanguages() throws {
        let props = BasicProperties(contentType: "application/json", headers: [
            WireFormat.Header.job: "resize", WireFormat.Header.attempt: "2", WireFormat.Header.maxAttempts: .int8(4),
            WireFormat.Header.enqueuedAt: .int64(1_700_000_000_123), WireFormat.Header.expiresAt: "2030-01-01T00:00:00Z",
            WireFormat.Header.runAt: .timestamp(1_900_000_000), "x-custom": .table(["kept": true]),
        ], messageID: "m1")
        let e = try JobEnvelope(properties: props, body: Array("{}".utf8))
        XCTAssertEqual(e.name, "resize")
        XCTAssertEqual(e.attempt, 2)
        XCTAssertEqual(e.maxAttempts, 4)
        XCTAssertEqual(e.enqueuedAt?.millisecondsSince1970, 1_700_000_000_123)
        XCTAssertEqual(e.expiresAt, ISO8601DateFormatter().date(from: "2030-01-01T00:00:00Z"))
        XCTAssertEqual(e.runAt, Date(timeIntervalSince1970: 1_900_000_000))
        let retried = e.retried(after: .init(attempt: 2, type: "T", message: "m", at: Date(), host: "h"))
        XCTAssertEqual(retried.attempt, 3)
        XCTAssertEqual(retried.headers["x-custom"], .table(["kept": true]), "unknown headers survive a retry")
        XCTAssertThrowsError(try JobEnvelope(properties: BasicProperties(headers: [WireFormat.Header.job: "x", WireFormat.Header.version: .int32(99)]), body: []))
        XCTAssertThrowsError(try JobEnvelope(properties: BasicProperties(contentEncoding: "gzip", headers: [WireFormat.Header.job: "x"]), body: []))
    }

    func testJobIDsAreDistinctTimeOrderedVersion7UUIDs() {
        let ids = (0..<10_000).map { _ in JobID.make() }
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ids.prefix(100) {
            let uuid = UUID(uuidString: id)
            XCTAssertNotNil(uuid, id)
            XCTAssertEqual(id, id.lowercased())
            XCTAssertEqual(Array(id)[14], "7", "version nibble")
            XCTAssertTrue("89ab".contains(Array(id)[19]), "variant nibble")
        }
        // The first 48 bits are the Unix time in milliseconds, big-endian: ids sort by the time they were made.
        let t: UInt64 = 0x019A_D6F0_3B24
        let id = JobID.make(milliseconds: t)
        XCTAssertTrue(id.hasPrefix("019ad6f0-3b24-7"), id)
        XCTAssertLessThan(JobID.make(milliseconds: t), JobID.make(milliseconds: t + 1))
        XCTAssertLessThan(JobID.make(milliseconds: t + 1), JobID.make(milliseconds: t + 256))
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let made = UInt64(ids[0].replacingOccurrences(of: "-", with: "").prefix(12), radix: 16) ?? 0
        XCTAssertLessThan(max(now, made) - min(now, made), 60_000, "the id carries the time it was made")
        XCTAssertEqual(JobID.milliseconds(of: ids[0]), made)
        XCTAssertEqual(JobID.milliseconds(of: JobID.make(milliseconds: t)), t)
        XCTAssertEqual(JobID.milliseconds(of: JobID.make(milliseconds: t).uppercased()), t)
        for other in ["", "b-run-00000001", UUID().uuidString, "019ad6f0-3b24-7101-a2bb-4136c566a96", "019ad6f0-3b24-7101-a2bb-4136c566a9622",
                      "019ad6f0-3b24-7101-c2bb-4136c566a962", "019ad6f0x3b24-7101-a2bb-4136c566a962", "019ad6g0-3b24-7101-a2bb-4136c566a962"] {
            XCTAssertNil(JobID.milliseconds(of: other), "not a version-7 UUID: \(other)")
        }
    }

    /// Bytes of AMQP 0-9-1 `basic` properties as encoded on the wire (the flags word, then each field that is
    /// set), for the fields a plain job can carry.
    static func encodedSize(_ p: BasicProperties) -> Int {
        func short(_ s: String?) -> Int { s.map { 1 + $0.utf8.count } ?? 0 }
        XCTAssertNil(p.headers, "sized for plain jobs only")
        return 2 + short(p.contentType) + short(p.contentEncoding) + (p.persistent == nil ? 0 : 1) + (p.priority == nil ? 0 : 1)
            + short(p.correlationID) + short(p.replyTo) + short(p.expiration) + short(p.messageID) + (p.timestamp == nil ? 0 : 8)
            + short(p.type) + short(p.userID) + short(p.appID) + short(p.clusterID)
    }

    /// Warren's producer names the job in `type` and stamps it in `timestamp`, with no header table; a reader
    /// takes the name from the header when there is one, and the enqueue time to the millisecond from a
    /// version-7 id made in the stamped second (or the one before), else to the second.
    func testTypeNamesTheJobAndTheIDRefinesTheTimestamp() throws {
        let at = Date(millisecondsSince1970: 1_700_000_000_123)
        let made = JobEnvelope(name: "resize", id: JobID.make(milliseconds: 1_700_000_000_123), queue: "q", arguments: Array("{}".utf8), enqueuedAt: at)
        XCTAssertNil(made.properties.headers, "a plain job carries no header table")
        XCTAssertEqual(made.properties.type, "resize")
        XCTAssertEqual(made.properties.timestamp, 1_700_000_000)
        let read = try JobEnvelope(properties: made.properties, body: made.body)
        XCTAssertEqual(read.name, "resize")
        XCTAssertEqual(read.enqueuedAt?.millisecondsSince1970, 1_700_000_000_123)
        XCTAssertEqual(WireFormat.jobName(made.properties), .string("resize"))

        func enqueued(id: String, timestamp: UInt64?, headers: FieldTable? = nil) throws -> Int? {
            try JobEnvelope(properties: BasicProperties(headers: headers, messageID: id, timestamp: timestamp, type: "t"), body: []).enqueuedAt?.millisecondsSince1970
        }
        XCTAssertEqual(try enqueued(id: JobID.make(milliseconds: 1_699_999_999_990), timestamp: 1_700_000_000), 1_699_999_999_990, "made just before the stamp")
        XCTAssertEqual(try enqueued(id: JobID.make(milliseconds: 1_699_999_998_990), timestamp: 1_700_000_000), 1_700_000_000_000, "an older id: the stamp")
        XCTAssertEqual(try enqueued(id: JobID.make(milliseconds: 1_700_000_001_000), timestamp: 1_700_000_000), 1_700_000_000_000, "a later id: the stamp")
        XCTAssertEqual(try enqueued(id: "order-42", timestamp: 1_700_000_000), 1_700_000_000_000)
        XCTAssertNil(try enqueued(id: "order-42", timestamp: nil))
        XCTAssertEqual(try enqueued(id: "order-42", timestamp: 1_700_000_000, headers: [WireFormat.Header.enqueuedAt: .int64(1_600_000_000_456)]),
                       1_600_000_000_456, "the header wins")

        // No content type (absent reads as JSON), so that the properties stay within the 64 bytes RabbitMQ
        // keeps on the queue process's heap (WireFormat.contentType) for names up to 15 bytes.
        XCTAssertNil(made.properties.contentType)
        XCTAssertEqual(try JobEnvelope(properties: made.properties, body: Array(#"{"a":1}"#.utf8)).body, Array(#"{"a":1}"#.utf8))
        let longest = JobEnvelope(name: "generate-report", id: JobID.make(), queue: "q", arguments: [], enqueuedAt: Date())
        XCTAssertEqual(Self.encodedSize(longest.properties), 64)
        XCTAssertEqual(Self.encodedSize(made.properties), 55)

        let both = BasicProperties(headers: [WireFormat.Header.job: "from-header"], type: "from-type")
        XCTAssertEqual(try JobEnvelope(properties: both, body: []).name, "from-header", "the header wins over type")
        XCTAssertThrowsError(try JobEnvelope(properties: BasicProperties(type: ""), body: [])) { error in
            XCTAssertEqual((error as? JobDecodingError)?.description, "missing header 'warren-job' (or property 'type') naming the job")
        }
        XCTAssertNil(WireFormat.jobName(BasicProperties(headers: ["task": "celery.add"])))
        XCTAssertEqual(JobEnvelope(unreadable: BasicProperties(contentType: "text/xml", type: "resize"), body: []).name, "resize")
    }
}
