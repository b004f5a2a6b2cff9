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
        refused("steps:\n  - group: [{job: a}]\n  - job: b\n", "WARREN_STORE")
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
