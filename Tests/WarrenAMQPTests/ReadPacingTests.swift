@testable import WarrenAMQP
import XCTest

/// When the I/O thread reads at once and when it lets deliveries gather.
final class ReadPacingTests: XCTestCase {
    let window = Duration.milliseconds(1)

    func testASingleReadAfterAQuietSpellDoesNotGather() {
        var p = ReadPacing(window: window)
        let t = ContinuousClock.now
        p.read(frames: 3, at: t, afterGathering: false)
        XCTAssertNil(p.gatherDeadline(at: t), "one read is no flow: the next delivery is read at once")
        p.read(frames: 3, at: t + .milliseconds(5), afterGathering: false)
        XCTAssertNil(p.gatherDeadline(at: t + .milliseconds(5)), "reads further apart than the window: still no flow")
    }

    func testReadsWithinTheWindowGatherUntilAGatheringWaitFindsNothing() {
        var p = ReadPacing(window: window)
        let t = ContinuousClock.now
        p.read(frames: 2, at: t, afterGathering: false)
        p.read(frames: 2, at: t + .microseconds(300), afterGathering: false)
        XCTAssertEqual(p.gatherDeadline(at: t + .microseconds(400)), t + .microseconds(1300))
        // The wait ran its course and found deliveries: the flow goes on, one read per window.
        p.read(frames: 20, at: t + .microseconds(1350), afterGathering: true)
        XCTAssertEqual(p.gatherDeadline(at: t + .microseconds(1400)), t + .microseconds(2350))
        // A turn woken by the mailbox that reads nothing does not end it.
        p.read(frames: 0, at: t + .microseconds(1500), afterGathering: false)
        XCTAssertNotNil(p.gatherDeadline(at: t + .microseconds(1600)))
        // A gathering wait that found nothing does.
        p.read(frames: 0, at: t + .microseconds(2400), afterGathering: true)
        XCTAssertNil(p.gatherDeadline(at: t + .microseconds(2500)))
    }

    func testAZeroWindowNeverGathers() {
        var p = ReadPacing(window: .zero)
        let t = ContinuousClock.now
        p.read(frames: 2, at: t, afterGathering: false)
        p.read(frames: 2, at: t, afterGathering: false)
        XCTAssertNil(p.gatherDeadline(at: t))
    }

    /// Deliveries wait only while the consumers have half their prefetch to spare.
    func testRoomToSpareIsHalfThePrefetch() {
        var t = AckTracker()
        t.delivered(1)
        XCTAssertFalse(t.hasRoomToSpare, "prefetch unknown")
        t.prefetch = 0
        XCTAssertTrue(t.hasRoomToSpare, "no limit")
        t.prefetch = 4
        t.delivered(2)
        XCTAssertTrue(t.hasRoomToSpare, "2 of 4")
        t.delivered(3)
        XCTAssertFalse(t.hasRoomToSpare, "3 of 4")
        XCTAssertTrue(t.markAck(3, multiple: false))
        XCTAssertFalse(t.hasRoomToSpare, "an ack not yet written still counts")
        _ = t.takeAcks()
        XCTAssertTrue(t.hasRoomToSpare)
    }
}
