import Synchronization
import XCTest
@testable import Warren

final class MainThreadTests: XCTestCase {
    /// `run` returns only once the body is done, including what it awaited.
    func testWaitsForTheBody() throws {
        let steps = Mutex<[String]>([])
        try MainThread.run {
            try await Task.sleep(for: .milliseconds(50))
            steps.withLock { $0.append("slept") }
            await Task.yield()
            steps.withLock { $0.append("done") }
        }
        XCTAssertEqual(steps.withLock { $0 }, ["slept", "done"])
    }

    /// What the body throws reaches the caller.
    func testRethrowsTheBodysError() {
        struct Refused: Error, Equatable { var code: Int }
        XCTAssertThrowsError(try MainThread.run { throw Refused(code: 7) }) { error in
            XCTAssertEqual(error as? Refused, Refused(code: 7))
        }
    }
}
