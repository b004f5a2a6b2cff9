@testable import WarrenAMQP
import XCTest

final class AckTrackerTests: XCTestCase {
    func testContiguousAcksCoalesceIntoOneMultipleAck() {
        var t = AckTracker()
        for tag in 1...5 { t.delivered(UInt64(tag)) }
        for tag in [3, 1, 2] { XCTAssertTrue(t.markAck(UInt64(tag), multiple: false)) }
        let frames = t.takeAcks()
        XCTAssertEqual(frames.map(\.tag), [3])
        XCTAssertEqual(frames.map(\.multiple), [true])
        XCTAssertTrue(t.isUnsettled(4))
        XCTAssertFalse(t.isUnsettled(3))
    }

    func testAckBehindAnUnsettledDeliveryIsSentAlone() {
        var t = AckTracker()
        for tag in 1...4 { t.delivered(UInt64(tag)) }
        XCTAssertTrue(t.markAck(2, multiple: false))
        XCTAssertTrue(t.markAck(4, multiple: false))
        let frames = t.takeAcks()
        XCTAssertEqual(frames.map(\.tag), [2, 4])
        XCTAssertEqual(frames.map(\.multiple), [false, false])
        // 1 still unsettled: a later ack of 1 alone must not be multiple over 2..4 (already sent), but may be.
        XCTAssertTrue(t.markAck(1, multiple: false))
        XCTAssertEqual(t.takeAcks().map(\.tag), [1])
        XCTAssertTrue(t.isUnsettled(3))
    }

    func testNackedDeliveryInsidePrefixIsNotAckedAgain() {
        var t = AckTracker()
        for tag in 10...12 { t.delivered(UInt64(tag)) }
        XCTAssertTrue(t.markSettled(10, multiple: false))  // nacked, sent at once
        XCTAssertTrue(t.markAck(11, multiple: false))
        XCTAssertEqual(t.takeAcks().map(\.tag), [11])
        XCTAssertFalse(t.markAck(11, multiple: false), "double ack is refused")
        XCTAssertFalse(t.markAck(99, multiple: false), "unknown tag is refused")
    }

    func testSingleAckIsNotMultiple() {
        var t = AckTracker()
        t.delivered(7)
        XCTAssertTrue(t.markAck(7, multiple: false))
        let frames = t.takeAcks()
        XCTAssertEqual(frames.map(\.tag), [7])
        XCTAssertEqual(frames.map(\.multiple), [false])
    }

    /// An ack waits for company while other deliveries are still running, up to the linger.
    func testAnAckWaitsForCompanyUpToTheLinger() {
        var t = AckTracker()
        for tag in 1...3 { t.delivered(UInt64(tag)) }
        XCTAssertTrue(t.markAck(1, multiple: false))
        let now = ContinuousClock.now
        XCTAssertFalse(t.flushDue(at: now))
        XCTAssertFalse(t.flushDue(at: now + .microseconds(500)))
        XCTAssertTrue(t.flushDue(at: now + AckTracker.linger))
        XCTAssertNotNil(t.flushDeadline)
        XCTAssertTrue(t.markAck(2, multiple: false))
        XCTAssertEqual(t.takeAcks().map(\.tag), [2])
        XCTAssertNil(t.flushDeadline)
        XCTAssertFalse(t.flushDue(at: now + .seconds(1)))  // nothing pending
    }

    /// Nothing waits when no delivery is left unsettled (the consumer would wait for these acks), or when a
    /// batch of acks is pending.
    func testAcksAreDueAtOnceWhenNothingElseIsUnsettledOrABatchIsPending() {
        var t = AckTracker()
        for tag in 1...2 { t.delivered(UInt64(tag)) }
        XCTAssertTrue(t.markAck(2, multiple: false))
        XCTAssertFalse(t.flushDue(at: .now))
        XCTAssertTrue(t.markAck(1, multiple: false))
        XCTAssertTrue(t.flushDue(at: .now))
        XCTAssertEqual(t.takeAcks().map(\.tag), [2])

        var b = AckTracker()
        for tag in 1...(AckTracker.batch + 1) { b.delivered(UInt64(tag)) }
        for tag in 1..<AckTracker.batch { XCTAssertTrue(b.markAck(UInt64(tag), multiple: false)) }
        XCTAssertFalse(b.flushDue(at: .now))
        XCTAssertTrue(b.markAck(UInt64(AckTracker.batch), multiple: false))
        XCTAssertTrue(b.flushDue(at: .now))
        XCTAssertEqual(b.takeAcks().map(\.tag), [UInt64(AckTracker.batch)])

        // A delivery settled by a nack no longer counts as running.
        var n = AckTracker()
        for tag in 1...2 { n.delivered(UInt64(tag)) }
        XCTAssertTrue(n.markAck(1, multiple: false))
        XCTAssertFalse(n.flushDue(at: .now))
        XCTAssertTrue(n.markSettled(2, multiple: false))
        XCTAssertTrue(n.flushDue(at: .now))
    }

    /// An ack behind a delivery still running is held, to join a `multiple` ack once the delivery ahead
    /// finishes; never longer than the hold limit.
    func testAnAckBehindARunningDeliveryIsHeldToJoinAMultipleAck() {
        var t = AckTracker()
        for tag in 1...3 { t.delivered(UInt64(tag)) }
        XCTAssertTrue(t.markAck(2, multiple: false))
        let now = ContinuousClock.now
        XCTAssertFalse(t.flushDue(at: now + AckTracker.linger))
        let written = now + AckTracker.linger
        XCTAssertTrue(t.takeAcks(at: written).isEmpty)  // held
        XCTAssertTrue(t.markAck(1, multiple: false))
        // The run ahead is complete, but a write just happened: it waits a linger for company again.
        XCTAssertFalse(t.flushDue(at: written))
        XCTAssertTrue(t.flushDue(at: written + AckTracker.linger))
        let frames = t.takeAcks(at: written + AckTracker.linger)
        XCTAssertEqual(frames.map(\.tag), [2])
        XCTAssertEqual(frames.map(\.multiple), [true])

        // Held no longer than the limit: then it goes alone.
        var h = AckTracker()
        for tag in 1...2 { h.delivered(UInt64(tag)) }
        XCTAssertTrue(h.markAck(2, multiple: false))
        let start = ContinuousClock.now
        XCTAssertFalse(h.flushDue(at: start + AckTracker.linger))
        XCTAssertTrue(h.flushDue(at: start + AckTracker.holdLimit))
        XCTAssertEqual(h.takeAcks(at: start + AckTracker.holdLimit).map(\.tag), [2])
        XCTAssertTrue(h.isUnsettled(1))
    }
    /// Acks go at once only when waiting could hold the broker back: acks at the front while the channel has
    /// less than half its prefetch to spare (or, the prefetch unknown, nothing left unsettled), or a batch.
    func testAcksGoAtOnceOnlyWhenWaitingCouldHoldTheBrokerBack() {
        let now = ContinuousClock.now
        var unknown = AckTracker()
        unknown.delivered(1)
        XCTAssertTrue(unknown.markAck(1, multiple: false, at: now))
        XCTAssertEqual(unknown.wakeDeadline(at: now), now, "prefetch unknown: the broker may be waiting for it")

        var roomy = AckTracker()
        roomy.prefetch = 100
        for tag in 1...3 { roomy.delivered(UInt64(tag)) }
        for tag in 1...3 { XCTAssertTrue(roomy.markAck(UInt64(tag), multiple: false, at: now)) }
        XCTAssertEqual(roomy.wakeDeadline(at: now), now + AckTracker.linger, "room in the prefetch: no wake-up of its own")
        XCTAssertFalse(roomy.flushDue(at: now), "and they wait for company, the broker not held back")
        XCTAssertTrue(roomy.flushDue(at: now + AckTracker.linger))

        var full = AckTracker()
        full.prefetch = 2
        for tag in 1...2 { full.delivered(UInt64(tag)) }
        XCTAssertTrue(full.markAck(2, multiple: false, at: now))
        XCTAssertEqual(full.wakeDeadline(at: now), now + AckTracker.holdLimit, "behind a running delivery")
        XCTAssertTrue(full.markAck(1, multiple: false, at: now))
        XCTAssertEqual(full.wakeDeadline(at: now), now, "the prefetch is full of acks: the broker waits for them")

        var unlimited = AckTracker()
        unlimited.prefetch = 0
        let count = AckTracker.batch + 1
        for tag in 1...count { unlimited.delivered(UInt64(tag)) }
        for tag in 2...count { XCTAssertTrue(unlimited.markAck(UInt64(tag), multiple: false, at: now)) }
        XCTAssertNotEqual(unlimited.wakeDeadline(at: now), now, "a batch behind a running delivery cannot go yet")
        XCTAssertTrue(unlimited.markAck(1, multiple: false, at: now))
        XCTAssertEqual(unlimited.wakeDeadline(at: now), now, "a batch at the front goes at once")
        _ = unlimited.takeAcks()
        XCTAssertNil(unlimited.wakeDeadline(at: now), "nothing pending")
    }

    /// While acks flow and deliveries are running, the I/O thread looks again within the linger even with
    /// no ack pending; once acks stop for the hold limit, it need not.
    func testTheIOThreadLooksAgainSoonOnlyWhileAcksFlow() {
        let now = ContinuousClock.now
        var t = AckTracker()
        t.prefetch = 100
        for tag in 1...3 { t.delivered(UInt64(tag)) }
        XCTAssertNil(t.lookDeadline(at: now), "no ack yet: nothing to expect")
        XCTAssertTrue(t.markAck(1, multiple: false, at: now))
        _ = t.takeAcks(at: now)
        XCTAssertEqual(t.lookDeadline(at: now), now + AckTracker.linger)
        XCTAssertNil(t.lookDeadline(at: now + AckTracker.holdLimit), "acks stopped: long jobs need no polling")
        XCTAssertTrue(t.markAck(3, multiple: false, at: now))
        XCTAssertEqual(t.lookDeadline(at: now), now + AckTracker.linger)
        XCTAssertEqual(t.lookDeadline(at: now + .milliseconds(10)), now + AckTracker.holdLimit, "a held ack's limit")
        XCTAssertTrue(t.markAck(2, multiple: false, at: now))
        _ = t.takeAcks()
        XCTAssertNil(t.lookDeadline(at: now), "nothing running")
    }
}
