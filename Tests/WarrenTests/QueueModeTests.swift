import Foundation
@testable import Warren
import WarrenAMQP
import XCTest

/// Classic work queues are declared lazy (`x-queue-mode=lazy`) when asked, and a queue that exists in the
/// other mode is taken as it is: pure checks of the declarations and of reading the broker's
/// refusal, then the real broker.
final class QueueModeTests: XCTestCase {
    private func arguments(_ topology: Topology, _ queue: Topology.Queue) -> [String: FieldTable] {
        Dictionary(uniqueKeysWithValues: topology.declarations(of: queue).map { ($0.name, $0.arguments) })
    }

    func testClassicWorkQueuesAreLazyWhenAskedAndNothingElseIs() {
        let queue = Topology.Queue("emails", lanes: 2)
        XCTAssertNil(arguments(Topology(queues: [queue]), queue)["emails"]?["x-queue-mode"], "RabbitMQ's default mode by default")
        let classic = arguments(Topology(queues: [queue], classicQueueMode: .lazy), queue)
        XCTAssertEqual(classic["emails"]?["x-queue-mode"], "lazy")
        XCTAssertEqual(classic["emails.lane1"]?["x-queue-mode"], "lazy")
        XCTAssertNil(classic["emails.dead"]?["x-queue-mode"], "dead-letter queues are lazy by policy (DeadLetterPolicy)")
        XCTAssertEqual(classic["emails"]?["x-dead-letter-exchange"], .string(WireFormat.deadExchange))

        let plain = arguments(Topology(queues: [queue], classicQueueMode: .default), queue)
        XCTAssertNil(plain["emails"]?["x-queue-mode"])
        let quorum = arguments(Topology(mode: .quorum, queues: [queue], classicQueueMode: .lazy), queue)
        XCTAssertNil(quorum["emails"]?["x-queue-mode"], "quorum queues refuse x-queue-mode")
        let celery = Topology.Queue("celery", external: true)
        XCTAssertEqual(arguments(Topology(queues: [celery], classicQueueMode: .lazy), celery)["celery"], [:], "declared as kombu declares it")
    }

    func testTheModeIsReadFromTheEnvironment() throws {
        XCTAssertEqual(try TopologySettings(environment: [:]).topology().classicQueueMode, .default)
        XCTAssertEqual(try TopologySettings(environment: ["WARREN_QUEUE_MODE": "lazy"]).topology().classicQueueMode, .lazy)
        XCTAssertThrowsError(try TopologySettings(environment: ["WARREN_QUEUE_MODE": "Lazy"])) { error in
            XCTAssertEqual((error as? WarrenError)?.code, .invalidInput)
            XCTAssertTrue("\(error)".contains("WARREN_QUEUE_MODE"), "\(error)")
        }
    }

    func testTheExistingModeIsReadFromTheBrokersRefusal() {
        func refusal(_ text: String) -> AMQPError { AMQPError(.channelClosed, "closed", replyCode: 406, replyText: text) }
        let prefix = "PRECONDITION_FAILED - inequivalent arg 'x-queue-mode' for queue 'q' in vhost '/': "
        let none = refusal(prefix + "received the value 'lazy' of type 'longstr' but current is none")
        let lazy = refusal(prefix + "received none but current is the value 'lazy' of type 'longstr'")
        let changed = refusal(prefix + "received 'default' but current is 'lazy'")
        XCTAssertEqual(QueueDeclaration.existingQueueMode(refusal: none), .some(nil))
        XCTAssertEqual(QueueDeclaration.existingQueueMode(refusal: lazy), "lazy")
        XCTAssertEqual(QueueDeclaration.existingQueueMode(refusal: changed), "lazy")
        let other = refusal("PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received none but current is the value '5' of type 'long'")
        XCTAssertEqual(QueueDeclaration.existingQueueMode(refusal: other), String??.none)
        XCTAssertEqual(QueueDeclaration.existingQueueMode(refusal: AMQPError(.channelClosed, "closed", replyCode: 404, replyText: "NOT_FOUND")), String??.none)

        let asked: FieldTable = ["x-dead-letter-exchange": "warren.dead", "x-queue-mode": "lazy"]
        XCTAssertEqual(QueueDeclaration.adopting(refusal: none, arguments: asked), ["x-dead-letter-exchange": "warren.dead"])
        XCTAssertEqual(QueueDeclaration.adopting(refusal: lazy, arguments: ["x-dead-letter-exchange": "warren.dead"]), asked)
        XCTAssertNil(QueueDeclaration.adopting(refusal: other, arguments: asked))
        // A refusal that changes nothing is not retried forever.
        XCTAssertNil(QueueDeclaration.adopting(refusal: lazy, arguments: asked))
    }

    /// A queue in the default mode (no `x-queue-mode`, with a priority as the CLI once set) is taken as it is
    /// by a lazy topology without priority: two arguments adopted in one declaration, the queue left
    /// unchanged, its jobs run. A queue declared lazy is taken by a topology that asks for the default mode.
    func testAQueueInTheOtherModeIsTakenAsItIs() async throws {
        let conn = try await JobsBroker.connect()
        let name = JobsBroker.uniqueQueue("mode")
        let queue = Topology.Queue(name)
        let ch = try await conn.openChannel()
        let oldQueue = Topology.Queue(name, maxPriority: 10)
        let oldTopology = Topology(queues: [oldQueue], classicQueueMode: .default)
        try await oldTopology.declare(on: ch)
        let today = Topology(queues: [queue], classicQueueMode: .lazy)
        try await today.declare(on: ch)
        // Unchanged: exactly the old arguments still declare it.
        _ = try await ch.declareQueue(name, durable: true, arguments: oldTopology.declarations(of: oldQueue).last!.arguments)

        let log = JobLog()
        var registry = JobRegistry()
        registry.register(TestMark.self) { args, ctx in await log.add(args.label, ctx) }
        let (running, producer) = try await startWorker(conn, today, registry)
        try await producer.enqueue(TestMark(label: "adopted"), options: .init(queue: name))
        let ran = await log.wait { $0.count == 1 }
        XCTAssertTrue(ran)
        try await running.stop()
        await JobsBroker.cleanUp(queue, on: conn)

        // The other way: a lazy queue, a topology asking for the default mode.
        try await today.declare(queue, on: ch)
        do {
            _ = try await ch.declareQueue(name, durable: true, arguments: Topology(queues: [queue], classicQueueMode: .default).declarations(of: queue).last!.arguments)
            XCTFail("a queue declared lazy took a declaration without x-queue-mode")
        } catch {
            XCTAssertEqual(error.replyCode, 406)
        }
        try await ch.reopen()
        try await Topology(queues: [queue], classicQueueMode: .default).declare(queue, on: ch)
        // Another argument differing is still refused after the mode is adopted.
        do {
            try await Topology(queues: [Topology.Queue(name, maxLength: 5)], classicQueueMode: .default).declare(on: ch)
            XCTFail("a queue with other arguments besides its mode was taken")
        } catch {
            XCTAssertEqual(error.replyCode, 406)
        }
        await JobsBroker.cleanUp(queue, on: conn)
        await conn.close()
    }
}
