import Foundation
import Warren
import WarrenAMQP
import XCTest

/// The workflow decisions without a broker: what each step publishes next, and the itinerary's reading.
final class WorkflowAdvanceTests: XCTestCase {
    private func job(_ name: String, _ args: String = "{}") -> WorkflowJob { WorkflowJob(name: name, arguments: args) }

    private func first(_ workflow: Workflow) throws -> PlannedJob { try XCTUnwrap(workflow.firstJobs().first) }

    func testChainPassesEachResultToTheNextStepAndEndsAfterTheLast() throws {
        let wf = Workflow.chain(.job("a"), .job("b"), .job("c"), id: "W")
        var planned = try first(wf)
        XCTAssertEqual([planned.id, planned.job.name, planned.queue], ["W.1", "a", "default"])
        XCTAssertNil(planned.itinerary.previousResult)
        for (k, name) in [(2, "b"), (3, "c")] {
            let next = try WorkflowAdvance.afterSuccess(planned.itinerary, result: Array("\(k * 10)".utf8), queue: "q")
            XCTAssertEqual(next.count, 1)
            planned = next[0]
            XCTAssertEqual([planned.id, planned.job.name, planned.queue], ["W.\(k)", name, "q"])
            XCTAssertEqual(planned.itinerary.previousResult, "\(k * 10)")
            XCTAssertEqual(planned.itinerary.step, k)
        }
        XCTAssertEqual(try Itinerary(header: planned.itinerary.headerValue), planned.itinerary, "the last step's itinerary reads back")
        XCTAssertEqual(try WorkflowAdvance.afterSuccess(planned.itinerary, result: nil, queue: "q"), [], "done after the last step")
    }

    func testAGroupAsLastStepIsOneJobPerMember() throws {
        let wf = Workflow.chain(.job("a"), .group([.job("b"), .job("c", queue: "other")]), id: "W")
        let next = try WorkflowAdvance.afterSuccess(try first(wf).itinerary, result: nil, queue: "q")
        XCTAssertEqual(next.map(\.id), ["W.2.1", "W.2.2"])
        XCTAssertEqual(next.map(\.queue), ["q", "other"])
        XCTAssertEqual(try Workflow.group([.job("x"), .job("y"), .job("z")], id: "G").firstJobs().map(\.id), ["G.1.1", "G.1.2", "G.1.3"])
    }

    func testChainDeathRunsTheOnFailureJobWithTheFailure() throws {
        let wf = Workflow.chain(.job("a"), .job("b"), id: "W", onFailure: job("alert"))
        let second = try WorkflowAdvance.afterSuccess(try first(wf).itinerary, result: nil, queue: "q")[0]
        let onFailure = WorkflowAdvance.afterDeath(second.itinerary, jobName: "b", failure: FailureInfo(type: "boom", message: "bad card"), queue: "q")
        XCTAssertEqual(onFailure.map(\.id), ["W.on-failure"])
        XCTAssertEqual(onFailure[0].job.name, "alert")
        let seen = try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(onFailure[0].itinerary.previousResult).utf8)) as? [String: Any]
        XCTAssertEqual(seen?["workflow"] as? String, "W")
        XCTAssertEqual(seen?["step"] as? Int, 2)
        XCTAssertEqual(seen?["error"] as? String, "step 2 (b) died: boom: bad card")
        XCTAssertNil(onFailure[0].itinerary.onFailure, "the on-failure job has no on-failure job of its own")
        XCTAssertEqual(WorkflowAdvance.afterDeath(onFailure[0].itinerary, jobName: "alert", failure: FailureInfo(type: "t", message: "m"), queue: "q"), [])
        XCTAssertEqual(WorkflowAdvance.afterDeath(try first(.chain(.job("a"), id: "V")).itinerary, jobName: "a",
                                                  failure: FailureInfo(type: "t", message: "m"), queue: "q"), [], "no on-failure job given")
    }

    func testSagaCompensatesTheDoneStepsNewestFirstThenRunsOnFailure() throws {
        let steps = (1...5).map { WorkflowStep.job("step", arguments: "{\"n\":\($0)}", compensation: job("undo", "{\"n\":\($0)}")) }
        let wf = Workflow(id: "S", kind: .saga, steps: steps, onFailure: job("alert"))
        var current = try first(wf)
        for k in 2...4 { current = try WorkflowAdvance.afterSuccess(current.itinerary, result: Array("\"r\(k - 1)\"".utf8), queue: "q")[0] }
        XCTAssertEqual(current.id, "S.4")
        XCTAssertEqual(current.itinerary.log.map(\.step), [1, 2, 3])
        var ran: [String] = []
        var next = WorkflowAdvance.afterDeath(current.itinerary, jobName: "step", failure: FailureInfo(type: "t", message: "declined"), queue: "q")
        while let job = next.first {
            XCTAssertEqual(next.count, 1)
            ran.append("\(job.id) \(job.job.arguments) \(job.itinerary.previousResult ?? "-")")
            next = try WorkflowAdvance.afterSuccess(job.itinerary, result: nil, queue: "q")
        }
        XCTAssertEqual(ran.dropLast(), ["S.undo-3 {\"n\":3} \"r3\"", "S.undo-2 {\"n\":2} \"r2\"", "S.undo-1 {\"n\":1} \"r1\""])
        XCTAssertTrue(ran.last?.hasPrefix("S.on-failure {}") == true, "\(ran)")
    }

    func testADyingCompensationStopsWithTheSagaIDAndTheRestOfTheLogInItsItinerary() throws {
        let wf = Workflow.saga(.job("a", compensation: job("undo-a")), .job("b", compensation: job("undo-b")), .job("c"), id: "S")
        var current = try first(wf)
        for _ in 2...3 { current = try WorkflowAdvance.afterSuccess(current.itinerary, result: nil, queue: "q")[0] }
        let undoB = WorkflowAdvance.afterDeath(current.itinerary, jobName: "c", failure: FailureInfo(type: "t", message: "m"), queue: "q")[0]
        XCTAssertEqual(undoB.id, "S.undo-2")
        XCTAssertEqual(undoB.itinerary.kind, .compensation)
        XCTAssertEqual(undoB.itinerary.log.map(\.compensation.name), ["undo-a"], "what is still to undo travels with it")
        XCTAssertEqual(undoB.itinerary.failure, "step 3 (c) died: t: m")
        XCTAssertEqual(WorkflowAdvance.afterDeath(undoB.itinerary, jobName: "undo-b", failure: FailureInfo(type: "t", message: "m"), queue: "q"), [])
        let request = try undoB.request()
        XCTAssertEqual(request.options.headers[WorkflowHeader.workflowID], .string("S"))
        XCTAssertEqual(try Itinerary(header: try XCTUnwrap(request.options.headers[WorkflowHeader.itinerary])), undoB.itinerary, "round trip")
    }

    func testAResultOverTheLimitFailsTheStepPermanently() throws {
        let planned = try first(.chain(.job("a"), .job("b"), id: "W"))
        let big = [UInt8](repeating: UInt8(ascii: "1"), count: WorkflowLimits.maxPreviousResultBytes + 1)
        XCTAssertThrowsError(try WorkflowAdvance.afterSuccess(planned.itinerary, result: big, queue: "q")) { error in
            XCTAssertTrue("\(error)".contains("at most \(WorkflowLimits.maxPreviousResultBytes)"), "\(error)")
        }
        XCTAssertNoThrow(try WorkflowAdvance.afterSuccess(planned.itinerary, result: Array(big.dropLast()), queue: "q"))
    }

    func testMalformedItinerariesAreRefusedWithAClearReason() {
        func refused(_ value: FieldValue, _ text: String, line: UInt = #line) {
            XCTAssertThrowsError(try Itinerary(header: value), line: line) { error in
                XCTAssertTrue("\(error)".contains(text), "\(error)", line: line)
            }
        }
        refused(.string("{not json"), "not JSON")
        refused(.string(#"{"kind":"chain","step":1,"steps":2}"#), "missing 'id'")
        refused(.string(#"{"id":"W","kind":"loop","step":1,"steps":2}"#), "invalid value at 'kind'")
        refused(.string(#"{"id":"W","kind":"chain","step":3,"steps":2}"#), "step 3 is outside its 2 steps")
        refused(.string(#"{"id":"W","kind":"chain","step":0,"steps":2}"#), "step 0 is outside its 2 steps")
        refused(.string(#"{"id":"W","kind":"chain","step":1,"steps":2,"next":[{"job":""}]}"#), "without a job name")
        refused(.int32(7), "must be a JSON string")
    }

    func testValidationRefusesAGroupAfterAGroupAndCompensationsOutsideASaga() {
        XCTAssertNoThrow(try Workflow.chain(.group([.job("a"), .job("b")]), .job("c")).validate(), "fan-in: a batch")
        XCTAssertThrowsError(try Workflow.chain(.group([.job("a"), .job("b")]), .group([.job("c")])).validate()) {
            XCTAssertTrue("\($0)".contains("a group right after a group"), "\($0)")
        }
        XCTAssertThrowsError(try Workflow.chain(.job("a", compensation: WorkflowJob(name: "u"))).validate()) {
            XCTAssertTrue("\($0)".contains("only a saga"), "\($0)")
        }
        XCTAssertThrowsError(try Workflow.saga(.group([.job("a")])).validate())
        XCTAssertThrowsError(try Workflow.chain().validate())
    }
}
