import Foundation
import Warren
import WarrenAMQP
import WarrenTestSupport
import XCTest

/// `QueueMigration` (`warren topology migrate`) against the real broker: a queue whose arguments must change
/// is re-declared with every job kept, also while jobs keep coming, a queue with consumers is refused, and an
/// interrupted migration is finished by the next run.
final class QueueMigrationTests: XCTestCase {
    /// A queue another system declared without arguments, holding jobs, is taken over with a priority.
    func testQueueDeclaredElsewhereIsRedeclaredWithEveryJob() async throws {
        let f = try await Fixture.make("migrate", maxPriority: 10)
        let (conn, queue, topology, ch) = (f.conn, f.queue, f.topology, f.ch)
        try await ch.declareQueue(queue.name, durable: true)
        let ids = try await publishPlain(1200, to: queue.name, on: ch)
        let old = await declareError(topology, queue, on: conn)
        XCTAssertEqual(old?.replyCode, 406, "the old queue should not take the new arguments: \(String(describing: old))")

        let migration = QueueMigration(connection: conn, topology: topology)
        let outcomes = try await migration.migrate(queue)
        XCTAssertEqual(outcomes.map(\.queue), [WireFormat.deadLetterQueue(for: queue.name), queue.name])
        XCTAssertEqual(outcomes.map(\.migrated), [false, true])
        XCTAssertEqual(outcomes.last?.movedOut, 1200)
        XCTAssertEqual(outcomes.last?.movedBack, 1200)

        let now = await declareError(topology, queue, on: conn)
        XCTAssertNil(now, "the queue still has its old arguments")
        let found = try await messageIDs(in: queue.name, on: conn)
        XCTAssertEqual(found, ids)
        let holdingLeft = try await queueExists(QueueMigration.holdingQueue(for: queue.name), on: conn)
        XCTAssertFalse(holdingLeft)
        let again = try await migration.migrate(queue)
        XCTAssertEqual(again.map(\.migrated), [false, false])

        await f.tearDown()
    }

    /// Jobs enqueued while the queue is migrated all end up in it: at every moment the queue or its holding
    /// queue is bound.
    func testJobsEnqueuedDuringTheMigrationAreKept() async throws {
        let f = try await Fixture.make("migrate-live", maxPriority: 5)
        let (conn, queue, topology, ch) = (f.conn, f.queue, f.topology, f.ch)
        // The old queue as a Warren queue without priority: bound like one, so producers reach it.
        let oldQueue = Topology.Queue(queue.name)
        let oldTopology = Topology(queues: [oldQueue])
        try await oldTopology.declare(oldQueue, on: ch)
        let before = try await publishPlain(8000, to: queue.name, on: ch)
        let producer = try await JobProducer(connection: conn, topology: oldTopology)
        try await producer.enqueue(name: "noop", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue.name, jobID: "live-first"))

        let migrating = Task { try await QueueMigration(connection: conn, topology: topology, batchSize: 200).migrate(queue) }
        var live: Set<String> = ["live-first"]
        var batchesDuringMigration = 0
        for round in 0..<400 {  // until the migration is done, at most 400 batches of 20
            let requests = (0..<20).map { i in
                JobRequest(name: "noop", arguments: Array("{}".utf8), options: EnqueueOptions(queue: queue.name, jobID: "live-\(round)-\(i)"))
            }
            for (request, result) in zip(requests, await producer.enqueue(batch: requests)) {
                XCTAssertNoThrow(try result.get(), "\(request.options.jobID!)")
                live.insert(request.options.jobID!)
            }
            if try await queueExists(QueueMigration.holdingQueue(for: queue.name), on: conn) {
                batchesDuringMigration += 1
            } else if batchesDuringMigration > 0 || round >= 100 {
                break
            }
        }
        let outcomes = try await migrating.value
        XCTAssertEqual(outcomes.last?.migrated, true)
        XCTAssertGreaterThan(batchesDuringMigration, 0, "no job was enqueued while the migration ran: nothing was tested")

        let found = try await messageIDs(in: queue.name, on: conn)
        XCTAssertEqual(before.subtracting(found), [], "jobs from before the migration are missing")
        XCTAssertEqual(live.subtracting(found), [], "jobs enqueued during the migration are missing")

        await producer.channel.close()
        await f.tearDown()
    }

    /// A queue with a consumer is not touched: its worker would take jobs in the middle of the move.
    func testQueueWithConsumersIsRefused() async throws {
        let f = try await Fixture.make("migrate-busy", maxPriority: 10)
        let (conn, queue, topology, ch) = (f.conn, f.queue, f.topology, f.ch)
        try await ch.declareQueue(queue.name, durable: true)
        _ = try await publishPlain(10, to: queue.name, on: ch)
        let worker = try await conn.openChannel()
        try await worker.qos(prefetchCount: 1)
        let consumer = try await worker.consume(queue: queue.name)

        do {
            _ = try await QueueMigration(connection: conn, topology: topology).migrate(queue)
            XCTFail("a queue with a consumer was migrated")
        } catch let error as WarrenError {
            XCTAssertEqual(error.code, .invalidInput)
            XCTAssertTrue(error.message.contains("consumer"), error.message)
        }
        let holdingMade = try await queueExists(QueueMigration.holdingQueue(for: queue.name), on: conn)
        XCTAssertFalse(holdingMade)
        await consumer.cancel()
        await worker.close()
        try await eventually { try await ch.inspectQueue(queue.name).messageCount == 10 }

        await f.tearDown()
    }

    /// A run killed after the queue was re-declared left jobs in the holding queue, still bound: the next
    /// run moves them back and removes it.
    func testInterruptedMigrationIsFinishedByTheNextRun() async throws {
        let f = try await Fixture.make("migrate-resume", maxPriority: 10)
        let (conn, queue, topology, ch) = (f.conn, f.queue, f.topology, f.ch)
        try await topology.declare(queue, on: ch)
        let holding = QueueMigration.holdingQueue(for: queue.name)
        try await ch.declareQueue(holding, durable: true)
        try await ch.bindQueue(holding, exchange: WireFormat.workExchange, routingKey: queue.name)
        let ids = try await publishPlain(50, to: holding, on: ch)

        let outcomes = try await QueueMigration(connection: conn, topology: topology).migrate(queue)
        XCTAssertEqual(outcomes.last?.migrated, true)
        XCTAssertEqual(outcomes.last?.movedOut, 0)
        XCTAssertEqual(outcomes.last?.movedBack, 50)
        let holdingLeft = try await queueExists(holding, on: conn)
        XCTAssertFalse(holdingLeft)
        let found = try await messageIDs(in: queue.name, on: conn)
        XCTAssertEqual(found, ids)

        await f.tearDown()
    }

    /// A worker whose queue exists with other arguments fails at start and says what to run.
    func testWorkerOnAQueueWithOtherArgumentsPointsToMigrate() async throws {
        let f = try await Fixture.make("migrate-hint", maxPriority: 10)
        try await f.ch.declareQueue(f.queue.name, durable: true)
        var config = WorkerConfiguration()
        config.queues = [f.queue.name]
        let worker = Worker(connection: f.conn, registry: JobRegistry(), topology: f.topology, configuration: config)
        do {
            try await worker.run()
            XCTFail("the worker started on a queue with other arguments")
        } catch let error as WarrenError {
            XCTAssertTrue(error.message.contains("warren topology migrate"), error.message)
            XCTAssertEqual(error.underlying?.replyCode, 406)
        }
        await f.tearDown()
    }

    // MARK: helpers

    /// A connection, the wanted description of a new work queue, the shared topology declared, and a
    /// confirm channel.
    private struct Fixture {
        let conn: AMQPConnection
        let queue: Topology.Queue
        let topology: Topology
        let ch: AMQPChannel

        static func make(_ prefix: String, maxPriority: UInt8) async throws -> Fixture {
            let conn = try await JobsBroker.connect()
            let queue = Topology.Queue(JobsBroker.uniqueQueue(prefix), maxPriority: maxPriority)
            let topology = Topology(queues: [queue])
            let ch = try await conn.openChannel(confirmWindow: 500)
            try await topology.declareShared(on: ch)
            return Fixture(conn: conn, queue: queue, topology: topology, ch: ch)
        }

        func tearDown() async {
            await ch.close()
            await JobsBroker.cleanUp(queue, on: conn)
            await conn.close()
        }
    }

    /// Publishes `count` persistent jobs straight to `queue` (default exchange), confirmed; returns their ids.
    private func publishPlain(_ count: Int, to queue: String, on channel: AMQPChannel) async throws -> Set<String> {
        let prefix = UUID().uuidString.prefix(6)
        let messages = (0..<count).map { i in
            OutgoingMessage(routingKey: queue, properties: BasicProperties(headers: [WireFormat.Header.job: "noop"],
                                                                            persistent: true, messageID: "\(prefix)-\(i)"),
                            body: Array("{}".utf8))
        }
        let outcomes = await channel.publish(messages)
        XCTAssertEqual(outcomes.filter { (try? $0.get()) == .acked }.count, count)
        return Set(messages.compactMap(\.properties.messageID))
    }

    /// The error declaring `queue` as `topology` says, on a channel of its own; nil when it declares.
    private func declareError(_ topology: Topology, _ queue: Topology.Queue, on conn: AMQPConnection) async -> AMQPError? {
        guard let ch = try? await conn.openChannel() else { return AMQPError(.channelClosed, "no channel") }
        defer { Task { await ch.close() } }
        do {
            try await topology.declare(queue, on: ch)
            return nil
        } catch {
            return error
        }
    }

    private func queueExists(_ name: String, on conn: AMQPConnection) async throws -> Bool {
        let ch = try await conn.openChannel()
        defer { Task { await ch.close() } }
        return try await ch.unlessRefused(404) { () async throws(AMQPError) in try await ch.inspectQueue(name) } != nil
    }

    /// The message ids of every message in `queue` (consumed without ack: the queue is emptied).
    private func messageIDs(in queue: String, on conn: AMQPConnection) async throws -> Set<String> {
        let ch = try await conn.openChannel()
        let count = Int(try await ch.inspectQueue(queue).messageCount)
        try await ch.qos(prefetchCount: 1000)
        let consumer = try await ch.consume(queue: queue, noAck: true)
        let got = try await collect(consumer, count: count, timeout: 30, ack: false)
        await consumer.cancel()
        await ch.close()
        return Set(got.compactMap(\.properties.messageID))
    }
}
