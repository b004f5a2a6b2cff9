@testable import WarrenAMQP
import Glibc
import XCTest

/// The mailbox's wake-ups, without a broker: whether the I/O thread's eventfd is signalled.
final class MailboxTests: XCTestCase {
    /// Reads (and so resets) the eventfd: whether it had been signalled. (The tests drain it themselves, so
    /// they tell `awake` it was not.)
    private func signalled(_ mailbox: Mailbox) -> Bool {
        var value: UInt64 = 0
        return read(mailbox.wakeFD, &value, 8) == 8
    }

    func testAPostWakesASleepingThreadAndStopsItsNextSleep() {
        let mailbox = Mailbox()
        XCTAssertNotNil(mailbox.prepareToSleep(until: .now + .seconds(1)))
        XCTAssertTrue(mailbox.post { _ in })
        XCTAssertTrue(signalled(mailbox))
        mailbox.awake(signalled: false)
        XCTAssertNil(mailbox.prepareToSleep(until: .now + .seconds(1)), "a job is waiting: no sleep")
        XCTAssertEqual(mailbox.take().count, 1)
    }

    /// `wake(by:)` wakes the thread only when it would sleep past the deadline.
    func testWakeByWakesOnlyASleepThatWouldLastPastTheDeadline() {
        let mailbox = Mailbox()
        let now = ContinuousClock.now
        XCTAssertEqual(mailbox.prepareToSleep(until: now + .milliseconds(2)), now + .milliseconds(2))
        XCTAssertTrue(mailbox.wake(by: now + .milliseconds(3)))
        XCTAssertFalse(signalled(mailbox), "the sleep ends before the deadline anyway")
        mailbox.awake(signalled: false)

        XCTAssertNotNil(mailbox.prepareToSleep(until: now + .seconds(1)))
        XCTAssertTrue(mailbox.wake(by: now + .milliseconds(3)))
        XCTAssertTrue(signalled(mailbox))
        mailbox.awake(signalled: false)
    }

    /// Asked while the thread is awake, the deadline shortens its next sleep (no wake-up is lost between its
    /// last look and its sleep), and only that one.
    func testWakeByWhileAwakeShortensTheNextSleep() {
        let mailbox = Mailbox()
        let now = ContinuousClock.now
        XCTAssertTrue(mailbox.wake(by: now + .milliseconds(5)))
        XCTAssertTrue(mailbox.wake(by: now + .milliseconds(3)))
        XCTAssertFalse(signalled(mailbox))
        XCTAssertEqual(mailbox.prepareToSleep(until: now + .seconds(1)), now + .milliseconds(3))
        mailbox.awake(signalled: false)
        XCTAssertEqual(mailbox.prepareToSleep(until: now + .seconds(1)), now + .seconds(1))
        mailbox.awake(signalled: false)
    }

    func testAClosedMailboxRefusesJobsAndWakes() {
        let mailbox = Mailbox()
        XCTAssertTrue(mailbox.close().isEmpty)
        XCTAssertFalse(mailbox.post { _ in })
        XCTAssertFalse(mailbox.wake(by: .now))
    }
}
