import Foundation
import Warren
import WarrenAMQP
import WarrenTestSupport
import XCTest

/// Workers announce themselves through the real broker: a board sees a running announcer with the jobs
/// it counted, and forgets it when it stops (at once) or goes silent (after three intervals).
final class PresenceTests: XCTestCase {
    func testBoardSeesAnnouncerCountsAndForgetsItWhenItStops() async throws {
        let connection = try await JobsBroker.connect()
        let board = PresenceBoard()
        try await board.listen(on: connection)
        let announcer = Announcer(connection: connection, role: .worker, queues: ["presence-q"], concurrency: 3, interval: 0.2)
        announcer.jobStarted(name: "j", queue: "presence-q")
        announcer.jobFinished(name: "j", queue: "presence-q", outcome: .succeeded, failed: false, duration: .milliseconds(1))
        announcer.jobStarted(name: "j", queue: "presence-q")
        let running = Task { try await announcer.run() }
        let mine = { board.processes().first { $0.queues == ["presence-q"] } }
        try await BrokerControl.poll(timeout: 10, file: #filePath, line: #line) { mine() != nil }
        let seen = try XCTUnwrap(mine())
        XCTAssertEqual(seen.busy, 1)
        XCTAssertEqual(seen.jobsDone, 1)
        XCTAssertEqual(seen.counters["presence-q"]?.succeeded, 1)
        XCTAssertEqual(seen.concurrency, 3)
        XCTAssertEqual(seen.pid, getpid())
        running.cancel()  // ends the loop; the last announcement says "stopping"
        _ = try? await running.value
        try await BrokerControl.poll(timeout: 10, file: #filePath, line: #line) { mine() == nil }
        await board.stop()
        await connection.close()
    }

    func testSilentProcessExpires() {
        let board = PresenceBoard()
        let t0 = Date()
        board.receive(Announcement(role: "worker", id: "x", host: "h", pid: 9, queues: [], concurrency: 1, busy: 0, jobsDone: 0,
                                   counters: [:], startedAt: t0, sentAt: t0, interval: 1, stopping: false), now: t0)
        XCTAssertEqual(board.processes(now: t0 + 2.9).count, 1)
        XCTAssertEqual(board.processes(now: t0 + 3.1).count, 0)
    }
}
