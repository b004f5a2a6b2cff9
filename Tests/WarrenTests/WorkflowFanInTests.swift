import Foundation
import Warren
import WarrenAMQP
import XCTest

/// A group followed by more steps, as pure decisions (no broker): the group is a batch whose success
/// callback carries the rest of the chain and whose death callback is the on-failure job.
final class WorkflowFanInTests: XCTestCase {
    private let wf = Workflow.chain(.job("a"), .group([.job("b"), .job("c")]), .job("d"), .job("e"), id: "W",
                                    onFailure: WorkflowJob(name: "alert"), queue: "q")

    func testAGroupFollowedByStepsIsABatchWhoseSuccessCallbackContinuesTheChain() throws {
        let a = try XCTUnwrap(wf.firstJobs().first)
        let group = try WorkflowAdvance.afterSuccess(a.itinerary, result: Array("7".utf8), queue: "q")
        XCTAssertEqual(group.map(\.id), ["W.2.1", "W.2.2"])
        let batch = try XCTUnwrap(group.first?.batch)
        XCTAssertEqual(batch.id, "W.2")
        XCTAssertEqual(Set(group.map { $0.batch?.id }), ["W.2"])
        for child in group {
            XCTAssertEqual(child.itinerary.next, [], "a child continues nothing itself")
            XCTAssertNil(child.itinerary.onFailure, "a dying child does not run the on-failure job itself")
            XCTAssertEqual(child.itinerary.previousResult, "7", "children see the step before the group")
            XCTAssertEqual(try child.request().options.headers[WorkflowHeader.batch], .string("W.2"))
        }
        let success = try XCTUnwrap(batch.callbacks[.success])
        XCTAssertEqual(success.name, "d")
        let continuation = try XCTUnwrap(success.continuation)
        XCTAssertEqual(continuation.jobID, "W.3")
        let d = try Itinerary(header: .string(continuation.itinerary))
        XCTAssertEqual(d.step, 3)
        XCTAssertEqual(d.next.map { $0.jobs[0].name }, ["e"])
        XCTAssertEqual(d.onFailure?.name, "alert")
        XCTAssertEqual(d.previousResult, WorkflowAdvance.groupSummary(batch: "W.2", children: 2))
        XCTAssertEqual(d.previousResult, #"{"batch":"W.2","children":2}"#)
        // d, run, publishes e as any chain step does.
        let e = try WorkflowAdvance.afterSuccess(d, result: Array("8".utf8), queue: "q")
        XCTAssertEqual(e.map(\.id), ["W.4"])
        XCTAssertNil(e[0].batch)

        let death = try XCTUnwrap(batch.callbacks[.death])
        XCTAssertEqual(death.name, "alert")
        XCTAssertEqual(death.continuation?.jobID, "W.on-failure")
        let failure = try Itinerary(header: .string(try XCTUnwrap(death.continuation?.itinerary)))
        XCTAssertNil(failure.onFailure)
        XCTAssertTrue(failure.previousResult?.contains("a job of group step 2 (batch W.2) died") == true, failure.previousResult ?? "")
    }

    func testWithoutAnOnFailureJobTheBatchHasOnlyASuccessCallback() throws {
        let plain = Workflow.chain(.group([.job("b"), .job("c")]), .job("d"), id: "P", queue: "q")
        let first = try plain.firstJobs()
        XCTAssertEqual(first.map(\.id), ["P.1.1", "P.1.2"])
        XCTAssertEqual(first.first?.batch?.callbacks.keys.sorted { $0.rawValue < $1.rawValue }, [.success])
        XCTAssertEqual(first.first?.batch?.callbacks[.success]?.continuation?.jobID, "P.2")
    }

    func testAGroupAtTheEndStaysAPlainGroupWithoutAStore() throws {
        let end = Workflow.chain(.job("a"), .group([.job("b"), .job("c")]), id: "E", queue: "q")
        XCTAssertFalse(end.needsStore)
        XCTAssertTrue(wf.needsStore)
        let group = try WorkflowAdvance.afterSuccess(try XCTUnwrap(end.firstJobs().first).itinerary, result: nil, queue: "q")
        XCTAssertEqual(group.map(\.id), ["E.2.1", "E.2.2"])
        XCTAssertNil(group.first?.batch)
        XCTAssertNil(try group[0].request().options.headers[WorkflowHeader.batch])
    }

    func testAGroupRightAfterAGroupIsRefusedInWorkflowsAndItineraries() throws {
        let twice = Workflow.chain(.group([.job("b")]), .group([.job("c")]), .job("d"), id: "T")
        XCTAssertThrowsError(try twice.validate()) { error in
            XCTAssertTrue("\(error)".contains("step 2 of workflow T is a group right after a group"), "\(error)")
        }
        let text = #"{"id":"T","kind":"chain","step":1,"steps":4,"next":[{"group":[{"job":"b"}]},{"group":[{"job":"c"}]},{"job":"d"}]}"#
        XCTAssertThrowsError(try Itinerary(header: .string(text))) { error in
            XCTAssertTrue("\(error)".contains("a group right after a group"), "\(error)")
        }
    }

    func testTheContinuationSurvivesTheLedgersEncoding() throws {
        let batch = try XCTUnwrap(wf.firstJobs().first.flatMap { try WorkflowAdvance.afterSuccess($0.itinerary, result: nil, queue: "q").first?.batch })
        let decoded = try JSONDecoder().decode(BatchDefinition.self, from: JSONEncoder().encode(batch))
        XCTAssertEqual(decoded, batch)
        XCTAssertEqual(decoded.callbacks[.success]?.continuation?.jobID, "W.3")
    }

    func testTheGraphDrawsTheFanIn() {
        let text = WorkflowGraph.render(wf, format: .mermaid)
        XCTAssertTrue(text.contains(#"j2["wait for all 2 (batch)"]"#), text)
        for edge in ["s2_1 --> j2", "s2_2 --> j2", "j2 --> s3", "s3 --> s4", "s1 --> s2_1"] { XCTAssertTrue(text.contains(edge), "\(edge): \(text)") }
        XCTAssertFalse(text.contains("s2_1 --> s3"), text)
    }

    /// `warren workflow show` finds a fan-in chain by its ids: the group's jobs `W.2.j`, then `W.3`.
    func testTheStoreViewFindsTheGroupAndTheStepAfterIt() async throws {
        let known = ["W.1": "a", "W.2.1": "b", "W.2.2": "c", "W.3": "d"]
        let view = try await WorkflowView.read("W") { id in
            guard let name = known[id] else { return JobStatus.unknown(id) }
            var status = JobStatus(id: id, state: .succeeded)
            status.name = name
            return status
        }
        XCTAssertEqual(view?.jobs.map(\.id), ["W.1", "W.2.1", "W.2.2", "W.3"])
        XCTAssertEqual(view?.workflow.steps.map(\.isGroup), [false, true, false])
        XCTAssertTrue(WorkflowGraph.render(try XCTUnwrap(view?.workflow), format: .mermaid).contains("j2 --> s3"))
    }
}
