import Foundation
import Warren
import WarrenAMQP
import XCTest

/// Pages of a dead-letter queue against the real broker: the right slice (streamed when unfiltered, read
/// with basic.get when filtered), `hasMore` at the end, and the queue left whole and in order.
final class DeadLetterPageTests: XCTestCase {
    func testPagesSliceTheQueueAndLeaveItAsItWas() async throws {
        let connection = try await DeadLetterQueues.connect(try AMQPConfiguration(url: JobsBroker.url), logger: .init(label: "test"))
        let queue = Topology.Queue(JobsBroker.uniqueQueue("page"))
        let channel = try await connection.openChannel(confirmWindow: 100)
        try await Topology(queues: [queue]).declare(on: channel)
        let dead = WireFormat.deadLetterQueue(for: queue.name)
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        for i in 0..<7 {
            let outcome = try await channel.publish(dlqTestMessage(id: "p\(i)", job: i % 2 == 0 ? "even" : "odd", queue: queue.name,
                                                                  errorType: "E", message: "m\(i)", attempts: 1, failedAt: t0))
            XCTAssertEqual(outcome, .acked)
        }
        let browser = DeadLetterBrowser(connection: connection)
        let first = try await browser.page(queue: dead, offset: 0, limit: 3)
        XCTAssertEqual(first.letters.map(\.id), ["p0", "p1", "p2"])
        XCTAssertTrue(first.hasMore)
        let last = try await browser.page(queue: dead, offset: 6, limit: 3)
        XCTAssertEqual(last.letters.map(\.id), ["p6"])
        XCTAssertFalse(last.hasMore)
        let exact = try await browser.page(queue: dead, offset: 4, limit: 3)
        XCTAssertEqual(exact.letters.map(\.id), ["p4", "p5", "p6"])
        XCTAssertFalse(exact.hasMore)
        let evens = try await browser.page(queue: dead, filter: DeadLetterFilter(jobs: ["even"]), offset: 1, limit: 2)
        XCTAssertEqual(evens.letters.map(\.id), ["p2", "p4"])
        XCTAssertTrue(evens.hasMore)
        let all = try await browser.list(queue: dead).map(\.id)
        XCTAssertEqual(all, (0..<7).map { "p\($0)" }, "every message back, in order")
        await JobsBroker.cleanUp(queue, on: connection)
        await connection.close()
    }
}
