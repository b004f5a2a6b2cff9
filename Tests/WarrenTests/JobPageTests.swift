import Foundation
import Warren
import WarrenStore
import XCTest

/// Paging through a store's job list by cursor (the dashboard's jobs page): every job once, newest first,
/// ties on the change time broken by id, on both backends.
final class JobPageTests: XCTestCase {
    func testPagesVisitEveryJobOnceInOrderAndEnd() async throws {
        try await StoreBackends.each { backend, store, _ in
            let queue = "q.\(StoreBackends.id("pages"))"
            let base = Date(timeIntervalSince1970: 1_900_000_000)
            // Seven jobs; three share one change time, so the cursor must break ties by id.
            let offsets = [0, 1, 2, 2, 2, 3, 4]
            let updates = offsets.enumerated().map { i, s -> JobUpdate in
                var u = JobUpdate(id: "\(queue)-\(i)", state: .succeeded, attempt: 1, at: base.addingTimeInterval(Double(s)))
                u.queue = queue
                return u
            }
            try await store.write(StoreBatch(updates: updates))
            var seen: [String] = []
            var query = JobQuery(queue: queue, limit: 3)
            var pages = 0
            while pages < 10 {
                let page = try await JobPage.read(query, from: store)
                pages += 1
                seen += page.jobs.map(\.id)
                guard let next = page.next else { break }
                XCTAssertEqual(JobCursor(text: next.text), next, backend)
                query.after = next
            }
            XCTAssertEqual(pages, 3, backend)
            let expected = updates.sorted { ($0.at, $1.id) > ($1.at, $0.id) }.map(\.id)
            XCTAssertEqual(seen, expected, backend)
        }
    }

    func testCursorText() {
        XCTAssertNil(JobCursor(text: "x:y"))
        XCTAssertNil(JobCursor(text: "12:"))
        XCTAssertEqual(JobCursor(text: "12:a:b")?.id, "a:b")
    }
}
