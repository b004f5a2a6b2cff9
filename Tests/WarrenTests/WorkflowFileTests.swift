import Foundation
import Warren
import XCTest

/// Workflow files and their drawings, without a broker.
final class WorkflowFileTests: XCTestCase {
    static let saga = """
        kind: saga
        id: order-1042
        queue: orders
        steps:
          - job: reserve-stock
            args: {order: 1042, items: [1, 2]}
            compensate: {job: release-stock, args: {order: 1042}}
          - job: charge-card
            queue: payments
            attempts: 3
            compensate: {job: refund-card}
          - job: ship
        on_failure: {job: alert-ops}
        """

    func testReadsASagaFile() throws {
        let wf = try WorkflowFile.parse(Self.saga)
        XCTAssertEqual(wf.id, "order-1042")
        XCTAssertEqual(wf.kind, .saga)
        XCTAssertEqual(wf.queue, "orders")
        XCTAssertEqual(wf.steps.map { $0.jobs[0].name }, ["reserve-stock", "charge-card", "ship"])
        XCTAssertEqual(wf.steps[0].jobs[0].arguments, #"{"order":1042,"items":[1,2]}"#)
        XCTAssertEqual(wf.steps[1].jobs[0].queue, "payments")
        XCTAssertEqual(wf.steps[1].jobs[0].maxAttempts, 3)
        XCTAssertEqual(wf.steps[1].compensation?.name, "refund-card")
        XCTAssertEqual(wf.onFailure?.name, "alert-ops")
    }

    func testReadsJSONAndGroups() throws {
        let wf = try WorkflowFile.parse(#"{"steps": [{"job": "a"}, {"group": [{"job": "b"}, {"job": "c", "args": {"x": 1}}]}]}"#)
        XCTAssertEqual(wf.kind, .chain)
        XCTAssertTrue(wf.steps[1].isGroup)
        XCTAssertEqual(wf.steps[1].jobs.map(\.name), ["b", "c"])
    }

    func testBadFilesSayWhereAndWhy() {
        func refused(_ text: String, _ message: String, line: UInt = #line) {
            XCTAssertThrowsError(try WorkflowFile.read(text, file: "wf.yaml"), line: line) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)", line: line)
            }
        }
        refused("steps:\n  - job: a\n    retries: 2\n", "wf.yaml:3: unknown key \"retries\"")
        refused("kind: dag\nsteps: [{job: a}]\n", "kind must be chain or saga")
        refused("steps:\n  - args: {x: 1}\n", "wf.yaml:2: a job needs \"job\"")
        refused("steps:\n  - group: [{job: a}]\n  - group: [{job: b}]\n  - job: c\n", "a group right after a group")
        refused("steps: 3\n", "needs \"steps\", a list")
        refused("steps:\n  - job: a\n    args: 5\n", "args must be a mapping or a list")
        refused("", "empty")
        // The batch form.
        refused("batch:\n  children: [{job: a}]\n", "has no callback")
        refused("batch:\n  on_success: {job: a}\n", "needs \"children\"")
        refused("batch:\n  children: []\n  on_success: {job: a}\n", "has no children")
        refused("batch:\n  children: [{job: a}]\n  on_sucess: {job: a}\n", "wf.yaml:3: unknown key \"on_sucess\"")
        refused("batch: {children: [{job: a}], on_success: {job: b}}\nsteps: [{job: c}]\n", "a batch file is {batch: {...}} and nothing else")
    }

    func testMermaidAndDotDrawStepsCompensationsAndStates() throws {
        let wf = try WorkflowFile.parse(Self.saga)
        let mermaid = WorkflowGraph.render(wf, format: .mermaid, states: ["order-1042.1": .succeeded, "order-1042.2": .dead,
                                                                          "order-1042.undo-1": .running])
        XCTAssertEqual(mermaid, """
            flowchart LR
              s1["reserve-stock"]
              u1(["undo: release-stock"])
              s2["charge-card"]
              u2(["undo: refund-card"])
              s3["ship"]
              f(["on failure: alert-ops"])
              s1 -.-> u1
              s1 --> s2
              s2 -.-> u2
              s2 --> s3
              u2 -.-> u1
              u1 -.-> f
              classDef running fill:#bbdefb
              class u1 running
              classDef succeeded fill:#c8e6c9
              class s1 succeeded
              classDef dead fill:#ffcdd2
              class s2 dead

            """)
        let dot = WorkflowGraph.render(try WorkflowFile.parse("steps: [{job: a}, {group: [{job: b}, {job: c}]}]\non_failure: {job: z}\n"), format: .dot)
        XCTAssertTrue(dot.contains("s1 -> s2_1;\n  s1 -> s2_2;"), dot)
        XCTAssertTrue(dot.contains("f [label=\"on failure: z\", style=\"rounded,dashed,filled\"];"), dot)
        XCTAssertTrue(dot.contains("s2_2 -> f [style=dashed];"), dot)
    }
}

/// `warren workflow show`'s reading of a store, with the store's answers as a dictionary.
final class WorkflowViewTests: XCTestCase {
    func testReadsStepsGroupsCompensationsAndOnFailureByTheirIds() async throws {
        func s(_ id: String, _ name: String, _ state: JobState) -> JobStatus {
            var status = JobStatus(id: id, state: state, attempt: 1)
            status.name = name
            return status
        }
        let known = Dictionary(uniqueKeysWithValues: [
            s("W.1", "reserve", .succeeded), s("W.2", "charge", .succeeded), s("W.3", "ship", .dead),
            s("W.undo-2", "refund", .running), s("W.undo-1", "release", .enqueued), s("W.on-failure", "alert", .enqueued),
        ].map { ($0.id, $0) })
        let found = try await WorkflowView.read("W") { known[$0] ?? .unknown($0) }
        let view = try XCTUnwrap(found)
        XCTAssertEqual(view.jobs.map(\.id), ["W.1", "W.2", "W.3", "W.undo-2", "W.undo-1", "W.on-failure"])
        XCTAssertEqual(view.workflow.kind, .saga)
        XCTAssertEqual(view.workflow.steps.map { $0.compensation?.name }, ["release", "refund", nil])
        XCTAssertEqual(view.graphStates["W.3"], .dead)
        XCTAssertEqual(view.graphStates["W.undo-2"], .running)
        XCTAssertTrue(WorkflowGraph.render(view.workflow, format: .mermaid, states: view.graphStates).contains("class s3 dead"))

        let group = Dictionary(uniqueKeysWithValues: [s("G.1", "a", .succeeded), s("G.2.1", "b", .succeeded), s("G.2.2", "c", .retrying)]
            .map { ($0.id, $0) })
        let grouped = try await WorkflowView.read("G") { group[$0] ?? .unknown($0) }
        let fanOut = try XCTUnwrap(grouped)
        XCTAssertEqual(fanOut.workflow.steps.map(\.isGroup), [false, true])
        XCTAssertEqual(fanOut.workflow.steps[1].jobs.map(\.name), ["b", "c"])
        let none = try await WorkflowView.read("X") { .unknown($0) }
        XCTAssertNil(none)
    }

    func testWorkflowOfAJobId() {
        XCTAssertEqual(WorkflowView.workflowID(ofJob: "W.3"), "W")
        XCTAssertEqual(WorkflowView.workflowID(ofJob: "W.2.1"), "W")
        XCTAssertEqual(WorkflowView.workflowID(ofJob: "W.undo-2"), "W")
        XCTAssertEqual(WorkflowView.workflowID(ofJob: "a.b.on-failure"), "a.b")
        XCTAssertNil(WorkflowView.workflowID(ofJob: "plain-job"))
        XCTAssertNil(WorkflowView.workflowID(ofJob: "W.undo-x"))
        XCTAssertNil(WorkflowView.workflowID(ofJob: ".1"))
    }
}
