import Foundation
import Warren
import XCTest

/// The pure parts of reading and sweeping batches: ``BatchView`` from a ledger snapshot, and
/// ``BatchRetention/isSettled(_:)``.
final class BatchViewTests: XCTestCase {
    private func snapshot(sealed: Bool = true, pending: Int = 0, succeeded: Int = 3, dead: Int = 0, enqueued: Set<BatchCallback> = [],
                          parent: (batch: String, child: String)? = nil, notified: Bool = false) -> BatchSnapshot {
        BatchSnapshot(definition: BatchDefinition(id: "b", callbacks: [.success: .init(name: "ok"), .complete: .init(name: "done"),
                                                                       .death: .init(name: "rip")], parent: parent),
                      sealed: sealed, pending: pending, succeeded: succeeded, dead: dead, enqueued: enqueued, parentNotified: notified)
    }

    func testStatesCountsAndCallbacks() {
        let open = BatchView(snapshot(sealed: false, pending: 2, succeeded: 1), createdAt: nil, finishedAt: Date())
        XCTAssertEqual(open.state, .open)
        XCTAssertEqual([open.total, open.finished], [3, 1])
        XCTAssertNil(open.finishedAt, "not complete: no finish time")
        XCTAssertEqual(open.callbacks.map(\.state), [.waiting, .waiting, .waiting])
        let dying = BatchView(snapshot(pending: 1, succeeded: 1, dead: 1), createdAt: nil, finishedAt: nil)
        XCTAssertEqual(dying.state, .running)
        XCTAssertEqual(dying.callbacks.map(\.kind), [.death, .complete, .success])
        XCTAssertEqual(dying.callbacks.map(\.state), [.due, .waiting, .never])
        let done = BatchView(snapshot(enqueued: [.complete]), createdAt: nil, finishedAt: Date())
        XCTAssertEqual(done.state, .complete)
        XCTAssertNotNil(done.finishedAt)
        XCTAssertEqual(done.callbacks.map(\.state), [.waiting, .enqueued, .due])
        XCTAssertEqual(done.callbacks.map(\.jobID), ["b.death", "b.complete", "b.success"])
        XCTAssertEqual(BatchView.unknown("x").state, .unknown)
    }

    func testOnlySettledBatchesMayBeSwept() {
        XCTAssertTrue(BatchRetention.isSettled(snapshot(enqueued: [.complete, .success])))
        XCTAssertTrue(BatchRetention.isSettled(snapshot(dead: 1, enqueued: [.complete, .death])), "success never fires after a death")
        XCTAssertFalse(BatchRetention.isSettled(snapshot(sealed: false, enqueued: [.complete, .success])), "unsealed")
        XCTAssertFalse(BatchRetention.isSettled(snapshot(pending: 1)), "running")
        XCTAssertFalse(BatchRetention.isSettled(snapshot(enqueued: [.complete])), "success due, not enqueued")
        XCTAssertFalse(BatchRetention.isSettled(snapshot(dead: 1, enqueued: [.complete])), "death due, not enqueued")
        XCTAssertFalse(BatchRetention.isSettled(snapshot(enqueued: [.complete, .success], parent: ("p", "p.1"))), "parent not told")
        XCTAssertTrue(BatchRetention.isSettled(snapshot(enqueued: [.complete, .success], parent: ("p", "p.1"), notified: true)))
    }
}
