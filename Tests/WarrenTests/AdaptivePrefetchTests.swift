import Warren
import XCTest

/// The adaptive prefetch rule, without a broker.
final class AdaptivePrefetchTests: XCTestCase {
    private let rule = AdaptivePrefetch()  // 100 ms of work, at most 1,024 waiting and 512 settling, changes at least 5 s apart

    func testShortJobsGetTheMaximum() {
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .microseconds(20)), 1_024)
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .zero), 1_024)
    }

    func testLongJobsGetAboutTheConcurrency() {
        // 16 × (1 + 0.1 s / 2 s) = 16.8 -> 17
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .seconds(2)), 17)
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .seconds(3600)), 17)
    }

    func testMiddleJobsKeepTheTargetWaitBuffered() {
        // 16 × (1 + 100 ms / 10 ms) = 176
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .milliseconds(10)), 176)
        // 16 × (1 + 100 ms / 2 ms) = 816, under the maximum of 1,024
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .milliseconds(2)), 816)
    }

    func testSettlementsThatWaitForIOAddTheirPlaces() {
        // A tracked short job: 50 us to run, 1.5 ms more until its group commit returns. Waiting part at its
        // maximum (1,024), settling part 16 × 1.5 ms / 50 us = 480.
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .microseconds(50), meanSettleTime: .microseconds(1_500)), 1_024 + 480)
        // Slower commits: the settling part stops at its maximum (512).
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .microseconds(50), meanSettleTime: .milliseconds(30)), 1_024 + 512)
        // A job of a second with a 5 ms commit: one place more than untracked (16 × (1 + 0.1) = 17.6 -> 18,
        // and 16 × 0.005 = 0.08 -> 1).
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .seconds(1)), 18)
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .seconds(1), meanSettleTime: .milliseconds(5)), 19)
        // Acked as they finish (no store): nothing added.
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .microseconds(50), meanSettleTime: .zero), 1_024)
        // Run times too short to measure, settlements measured: both maxima.
        XCTAssertEqual(rule.target(concurrency: 16, meanRunTime: .zero, meanSettleTime: .milliseconds(1)), 1_024 + 512)
        var none = rule
        none.maximumSettling = 0
        XCTAssertEqual(none.target(concurrency: 16, meanRunTime: .microseconds(50), meanSettleTime: .milliseconds(3)), 1_024)
    }

    func testNeverBelowTheConcurrency() {
        var small = rule
        small.maximum = 8
        XCTAssertEqual(small.target(concurrency: 64, meanRunTime: .microseconds(5)), 64)
        XCTAssertEqual(small.target(concurrency: 64, meanRunTime: .seconds(100)), 64)  // the bound: max(concurrency, maximum)
    }

    func testChangesOnlyByAFactorOfTwo() {
        XCTAssertNil(rule.change(current: 100, target: 199, sinceLastChange: nil))
        XCTAssertNil(rule.change(current: 100, target: 51, sinceLastChange: nil))
        XCTAssertEqual(rule.change(current: 100, target: 200, sinceLastChange: nil), 200)
        XCTAssertEqual(rule.change(current: 100, target: 50, sinceLastChange: nil), 50)
    }

    func testChangesAtMostOncePerInterval() {
        XCTAssertNil(rule.change(current: 16, target: 512, sinceLastChange: .seconds(4)))
        XCTAssertEqual(rule.change(current: 16, target: 512, sinceLastChange: .seconds(5)), 512)
        XCTAssertEqual(rule.change(current: 16, target: 512, sinceLastChange: nil), 512)  // the first change
    }

    func testMeanNeedsEnoughJobs() {
        XCTAssertNil(rule.meanRunTime(total: .milliseconds(7), count: 7, window: .seconds(1)))
        XCTAssertEqual(rule.meanRunTime(total: .milliseconds(8), count: 8, window: .seconds(1)), .milliseconds(1))
        XCTAssertEqual(rule.meanRunTime(total: .seconds(30), count: 1, window: .seconds(6)), .seconds(30))
        XCTAssertNil(rule.meanRunTime(total: .zero, count: 0, window: .seconds(60)))
    }

    func testLooksOftenOnlyUntilTheFirstChangeWithinTheMinimumInterval() {
        XCTAssertEqual(rule.nextEvaluation(sinceStart: .zero, changed: false), .milliseconds(10))
        XCTAssertEqual(rule.nextEvaluation(sinceStart: .seconds(4), changed: false), .milliseconds(10))
        XCTAssertEqual(rule.nextEvaluation(sinceStart: .seconds(5), changed: false), .milliseconds(500))  // long jobs: no fast polling for ever
        XCTAssertEqual(rule.nextEvaluation(sinceStart: .milliseconds(100), changed: true), .milliseconds(500))
        var slow = rule
        slow.evaluationInterval = .milliseconds(5)
        XCTAssertEqual(slow.nextEvaluation(sinceStart: .zero, changed: false), .milliseconds(5))  // never slower than asked
    }
}
