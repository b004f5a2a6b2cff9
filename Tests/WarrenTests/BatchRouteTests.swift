import Foundation
@testable import Warren
import WarrenAMQP
import XCTest

/// Batch children in the compact form (``BatchRoute``): the batch in the route and the id, no header.
final class BatchRouteTests: XCTestCase {
    /// The producer's rule and the worker's reading, both pure.
    func testTheCompactFormIsAnIdOfTheBatchAndDigits() {
        XCTAssertTrue(BatchRoute.isCompact(childID: "album-7.1", batch: "album-7"))
        XCTAssertTrue(BatchRoute.isCompact(childID: "album-7.100000", batch: "album-7"))
        XCTAssertTrue(BatchRoute.isCompact(childID: "a.b.3", batch: "a.b"), "a nested batch's child")
        XCTAssertFalse(BatchRoute.isCompact(childID: "album-7.1.2", batch: "album-7"), "a child added by child 1 names child 1, not the batch")
        XCTAssertFalse(BatchRoute.isCompact(childID: "album-7.", batch: "album-7"))
        XCTAssertFalse(BatchRoute.isCompact(childID: "album-7.x", batch: "album-7"))
        XCTAssertFalse(BatchRoute.isCompact(childID: "album-71", batch: "album-7"))
        XCTAssertFalse(BatchRoute.isCompact(childID: "order-9", batch: "album-7"))
        XCTAssertFalse(BatchRoute.isCompact(childID: ".1", batch: ""))

        XCTAssertEqual(BatchRoute.batch(ofChild: "album-7.12"), "album-7")
        XCTAssertEqual(BatchRoute.batch(ofChild: "a.b.3"), "a.b")
        XCTAssertEqual(BatchRoute.batch(ofChild: "dé.jà.4"), "dé.jà")
        XCTAssertNil(BatchRoute.batch(ofChild: "album-7"))
        XCTAssertNil(BatchRoute.batch(ofChild: ".4"))
        XCTAssertNil(BatchRoute.batch(ofChild: "album-7.x"))
        XCTAssertNil(BatchRoute.batch(ofChild: "album-7."))
    }

    /// The worker restores the header only for a message published to the batch exchange without one; an
    /// id naming no batch becomes a void header, which the middleware refuses saying why.
    func testTheWorkerRestoresTheHeaderFromTheRoute() throws {
        let child = BasicProperties(messageID: "b-1.7", type: "noop")
        let restored = try XCTUnwrap(BatchRoute.explicitProperties(exchange: WireFormat.batchExchange, properties: child))
        XCTAssertEqual(restored.headers?[WorkflowHeader.batch], .string("b-1"))
        XCTAssertEqual(restored.messageID, "b-1.7")
        XCTAssertNil(BatchRoute.explicitProperties(exchange: WireFormat.workExchange, properties: child), "a plain job")
        let explicit = BasicProperties(headers: [WorkflowHeader.batch: "other"], messageID: "b-1.7", type: "noop")
        XCTAssertNil(BatchRoute.explicitProperties(exchange: WireFormat.batchExchange, properties: explicit), "the header wins")

        let stray = try XCTUnwrap(BatchRoute.explicitProperties(exchange: WireFormat.batchExchange,
                                                                properties: BasicProperties(messageID: "no-batch", type: "noop")))
        XCTAssertEqual(stray.headers?[WorkflowHeader.batch], .void)
        XCTAssertThrowsError(try BatchMembership.batchID(header: .void)) { error in
            XCTAssertEqual((error as? ArgumentsError)?.reason, .undecodable)
            XCTAssertTrue("\(error)".contains("published to exchange 'warren.batch' without header 'warren-batch'"), "\(error)")
        }
    }

    /// A compact child the broker itself dead-lettered (its `x-first-death-exchange` is the batch exchange)
    /// is requeued in the header form; another dead letter gets no batch header.
    func testARequeuedCompactChildCarriesItsBatchHeader() {
        let dead = BasicProperties(headers: ["x-first-death-exchange": .string(WireFormat.batchExchange)], messageID: "b-9.3", type: "noop")
        let options = RequeueOptions(destination: "work")
        let back = options.message(for: DeadLetter(deadLetterQueue: "work.dead", properties: dead, body: []))
        XCTAssertEqual(back.properties.headers?[WorkflowHeader.batch], .string("b-9"))
        XCTAssertNil(back.properties.headers?["x-first-death-exchange"])
        var plain = dead
        plain.headers = ["x-first-death-exchange": .string(WireFormat.workExchange)]
        XCTAssertNil(options.message(for: DeadLetter(deadLetterQueue: "work.dead", properties: plain, body: [])).properties.headers?[WorkflowHeader.batch])
    }

    /// A child of a 100,000-child batch with a UUID id keeps a plain job's properties (no header table)
    /// and within 64 bytes for names up to 8 bytes; with the header it was 111 for `noop`.
    func testACompactChildsPropertiesFitSixtyFourBytes() {
        let batch = UUID().uuidString.lowercased()
        let child = JobEnvelope(name: "noop", id: "\(batch).100000", queue: "q", arguments: Array("{}".utf8), enqueuedAt: Date())
        XCTAssertNil(child.properties.headers)
        XCTAssertEqual(JobContextTests.encodedSize(child.properties), 60)
    }

    /// On a real broker: a child published in the compact form reaches its queue through the batch
    /// exchange, without a header; a worker without a store dead-letters it naming WARREN_STORE, and the
    /// dead letter carries the header (so a requeue to a worker with a store records it); a message on the
    /// batch exchange whose id names no batch is dead-lettered `undecodable`, saying so. Neither runs.
    func testCompactChildrenTravelWithoutAHeaderAndAreDeadLetteredWithIt() async throws {
        let conn = try await JobsBroker.connect()
        let q = Topology.Queue(JobsBroker.uniqueQueue("route"))
        let topology = Topology(queues: [q])
        try await declare(topology, on: conn)
        let producer = try await JobProducer(connection: conn, topology: topology)
        let ch = try await conn.openChannel()
        do {
            let job = WorkflowJob(name: "route-child")
            try await producer.publish([BatchMembership.request(job, id: "rb-1.1", queue: q.name, batch: "rb-1"),
                                        BatchMembership.request(job, id: "rb-1.1.1", queue: q.name, batch: "rb-1")])
            var sent: [AMQPDelivery] = []
            try await eventually { sent += try await drain(q.name, on: ch); return sent.count == 2 }
            let compact = try XCTUnwrap(sent.first { $0.properties.messageID == "rb-1.1" })
            XCTAssertEqual(compact.exchange, WireFormat.batchExchange)
            XCTAssertEqual(compact.routingKey, q.name)
            XCTAssertNil(compact.properties.headers)
            let added = try XCTUnwrap(sent.first { $0.properties.messageID == "rb-1.1.1" })
            XCTAssertEqual(added.exchange, WireFormat.workExchange, "an id not of the batch: the header form")
            XCTAssertEqual(added.properties.headers?[WorkflowHeader.batch], .string("rb-1"))
        } catch { XCTFail("\(error)") }
        await ch.close()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()

        let ran = JobLog()
        var registry = JobRegistry()
        registry.register(name: "route-child") { _, ctx in await ran.add("child", ctx) }
        try await withBatchWorker("route", ledger: nil, registry: registry) { q, producer, conn in
            try await producer.publish([BatchMembership.request(WorkflowJob(name: "route-child"), id: "rb-2.4", queue: q.name, batch: "rb-2")])
            let orphan = try await deadLetters(q, conn, count: 1)[0].properties.headers ?? [:]
            XCTAssertEqual(orphan[WireFormat.Header.deadReason], .string("non-retryable"))
            XCTAssertTrue(orphan[WireFormat.Header.errorMessage]?.stringValue?.contains("WARREN_STORE") == true)
            XCTAssertEqual(orphan[WorkflowHeader.batch], .string("rb-2"), "the dead letter names its batch")

            let ch = try await conn.openChannel()
            _ = try await ch.publish(OutgoingMessage(exchange: WireFormat.batchExchange, routingKey: q.name,
                                                 properties: BasicProperties(messageID: "not-a-child", type: "route-child"), body: Array("{}".utf8)))
            await ch.close()
            let stray = try await deadLetters(q, conn, count: 1)[0].properties.headers ?? [:]
            XCTAssertEqual(stray[WireFormat.Header.deadReason], .string("undecodable"))
            XCTAssertTrue(stray[WireFormat.Header.errorMessage]?.stringValue?.contains("job id must be '<batch>.<k>'") == true,
                          "\(stray[WireFormat.Header.errorMessage] ?? .void)")
            let entries = await ran.entries
            XCTAssertTrue(entries.isEmpty)
        }
    }

    private func deadLetters(_ q: Topology.Queue, _ conn: AMQPConnection, count: Int) async throws -> [AMQPDelivery] {
        let ch = try await conn.openChannel()
        var dead: [AMQPDelivery] = []
        try await eventually { dead += try await drain(WireFormat.deadLetterQueue(for: q.name), on: ch); return dead.count >= count }
        await ch.close()
        return dead
    }
}
