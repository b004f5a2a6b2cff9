import Warren
import XCTest

/// What a nacked publish becomes, without a broker: a full queue fails at once (or waits, when asked), any
/// other nack is retried with growing pauses until the deadline, and only then is an error.
final class NackDecisionTests: XCTestCase {
    private func decide(length: Int?, limit: Int?, wait: Bool = false, attempt: Int = 1,
                        remaining: Duration = .seconds(10), jitter: Double = 1) -> NackDecision.Verdict {
        NackDecision.decide(length: length, limit: limit, waitWhenFull: wait, attempt: attempt, remaining: remaining, jitter: jitter)
    }

    func testANackForAQueueBelowItsLimitOrWithoutOneIsRetried() {
        XCTAssertEqual(decide(length: 10, limit: 1000), .retry(after: .milliseconds(25)))
        XCTAssertEqual(decide(length: nil, limit: nil), .retry(after: .milliseconds(25)))
        XCTAssertEqual(decide(length: nil, limit: 5), .retry(after: .milliseconds(25)), "an unreadable length is not 'full'")
        XCTAssertEqual(decide(length: 3, limit: nil), .retry(after: .milliseconds(25)))
    }

    func testRetriesBackOffUpToOneSecondAndNeverPastTheDeadline() {
        XCTAssertEqual(decide(length: nil, limit: nil, attempt: 2), .retry(after: .milliseconds(50)))
        XCTAssertEqual(decide(length: nil, limit: nil, attempt: 5), .retry(after: .milliseconds(400)))
        XCTAssertEqual(decide(length: nil, limit: nil, attempt: 30), .retry(after: .seconds(1)))
        XCTAssertEqual(decide(length: nil, limit: nil, attempt: 30, jitter: 0), .retry(after: .milliseconds(500)))
        XCTAssertEqual(decide(length: nil, limit: nil, attempt: 30, remaining: .milliseconds(120)), .retry(after: .milliseconds(120)))
    }

    func testANackPastTheDeadlineIsRefused() {
        XCTAssertEqual(decide(length: nil, limit: nil, remaining: .zero), .refused)
        XCTAssertEqual(decide(length: 4, limit: 5, remaining: .milliseconds(-3)), .refused)
    }

    func testAFullQueueFailsAtOnceUnlessTheCallerWaits() {
        XCTAssertEqual(decide(length: 1000, limit: 1000), .queueFull(length: 1000, limit: 1000))
        XCTAssertEqual(decide(length: 1200, limit: 1000), .queueFull(length: 1200, limit: 1000))
        XCTAssertEqual(decide(length: 1000, limit: 1000, wait: true), .retry(after: .milliseconds(25)))
        XCTAssertEqual(decide(length: 1000, limit: 1000, wait: true, remaining: .zero), .queueFull(length: 1000, limit: 1000))
    }

    func testErrorsNameTheQueueAndItsLimit() throws {
        let full = try XCTUnwrap(NackDecision.error(.queueFull(length: 1000, limit: 1000), id: "j1", queue: "mail", waited: .zero))
        XCTAssertEqual(full.code, .queueFull)
        XCTAssertTrue(full.message.contains("'mail'") && full.message.contains("limit of 1000"), full.message)
        let refused = try XCTUnwrap(NackDecision.error(.refused, id: "j1", queue: "mail", waited: .seconds(30)))
        XCTAssertEqual(refused.code, .nacked)
        XCTAssertTrue(refused.message.contains("'mail'"), refused.message)
        XCTAssertNil(NackDecision.error(.retry(after: .seconds(1)), id: "j1", queue: "mail", waited: .zero))
    }
}
