import XCTest

@testable import Warren

/// The per-process step memory that keeps a kill from running the rest of a chain twice.
final class RecentStepsTests: XCTestCase {
    func testACompletedStepIsNotRunAgainAndAFailedOneIs() async {
        let recent = RecentSteps(capacity: 4)
        let first = await recent.begin("a")
        XCTAssertEqual(first, .run)
        recent.finish("a", completed: true)
        let second = await recent.begin("a")
        XCTAssertEqual(second, .completed)

        let b = await recent.begin("b")
        XCTAssertEqual(b, .run)
        recent.finish("b", completed: false)  // retried: the next copy runs
        let bAgain = await recent.begin("b")
        XCTAssertEqual(bAgain, .run)
    }

    /// Two copies side by side: the second waits for the first, and runs only if the first did not complete.
    func testACopyArrivingWhileTheFirstRunsWaitsForItsOutcome() async throws {
        for completed in [true, false] {
            let recent = RecentSteps(capacity: 4)
            let first = await recent.begin("s")
            XCTAssertEqual(first, .run)
            let copy = Task { await recent.begin("s") }
            try await Task.sleep(for: .milliseconds(50))
            recent.finish("s", completed: completed)
            let outcome = await copy.value
            XCTAssertEqual(outcome, completed ? .completed : .run, "first completed: \(completed)")
        }
    }

    func testOldestCompletedStepsAreForgotten() async {
        let recent = RecentSteps(capacity: 2)
        for id in ["1", "2", "3"] {
            _ = await recent.begin(id)
            recent.finish(id, completed: true)
        }
        let forgotten = await recent.begin("1")
        let kept = await recent.begin("3")
        XCTAssertEqual(forgotten, .run)
        XCTAssertEqual(kept, .completed)
    }
}
