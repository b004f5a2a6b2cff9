import Foundation
@testable import Warren
import XCTest

/// The `batch:` form of workflow files and its drawing.
final class WorkflowBatchFileTests: XCTestCase {
    static let batch = """
        batch:
          id: album-7
          queue: images
          children:
            - {job: resize, args: {image: 1}}
            - {job: resize, args: {image: 2}, queue: big}
          on_success: {job: publish}
          on_death: {job: alert}
        """

    func testABatchFileReadsChildrenCallbacksAndIds() throws {
        guard case .batch(let b) = try WorkflowFile.read(Self.batch) else { return XCTFail("not a batch") }
        XCTAssertEqual(b.id, "album-7")
        XCTAssertEqual(b.children.map(\.arguments), [#"{"image":1}"#, #"{"image":2}"#])
        XCTAssertEqual(b.callbacks[.success]?.name, "publish")
        XCTAssertEqual(b.callbacks[.death]?.name, "alert")
        XCTAssertNil(b.callbacks[.complete])
        XCTAssertEqual(b.childIDs, ["album-7.1", "album-7.2"])
        XCTAssertEqual(b.queues, ["images", "big"])
        let requests = b.childRequests()
        XCTAssertEqual(requests.map(\.options.queue), ["images", "big"])
        XCTAssertEqual(requests.map(\.batch), ["album-7", "album-7"], "carried in the route (BatchRoute) or header by the producer")
        XCTAssertNil(requests[0].options.headers[WorkflowHeader.batch])
        XCTAssertThrowsError(try WorkflowFile.parse(Self.batch)) { XCTAssertTrue("\($0)".contains("defines a batch"), "\($0)") }
    }

    func testABatchIsDrawnAsAFanInToItsCallbacks() throws {
        guard case .batch(let b) = try WorkflowFile.read(Self.batch) else { return XCTFail("not a batch") }
        let mermaid = WorkflowGraph.render(b, format: .mermaid, states: ["album-7.1": .succeeded])
        XCTAssertTrue(mermaid.contains("c1 --> join\n  c2 --> join\n  join --> success\n  c1 -.-> death\n  c2 -.-> death"), mermaid)
        XCTAssertTrue(mermaid.contains("class c1 succeeded"), mermaid)
        var big = b
        big.children = Array(repeating: WorkflowJob(name: "x"), count: 100)
        XCTAssertTrue(WorkflowGraph.render(big, format: .dot).contains("... 88 more children"))
    }

    func testANestedBatchInAFileIsAChildOfItsParent() throws {
        let text = """
            batch:
              id: album-7
              queue: images
              children:
                - {job: resize}
                - batch:
                    id: ignored
                    children: [{job: thumb}, {job: thumb}]
                    on_complete: {job: inner-done}
              on_success: {job: publish}
            """
        guard case .batch(let b) = try WorkflowFile.read(text) else { return XCTFail("not a batch") }
        XCTAssertEqual(b.childIDs, ["album-7.1", "album-7.2"], "the nested batch is child 2")
        XCTAssertEqual(b.nested.map(\.id), ["album-7.2"], "its id is its child id")
        XCTAssertEqual(b.nested.first?.childIDs, ["album-7.2.1", "album-7.2.2"])
        XCTAssertEqual(b.nested.first?.callbacks[.complete]?.name, "inner-done")
        XCTAssertEqual(b.nested.first?.queue, "images", "its parent's queue")
        XCTAssertEqual(b.childRequests().count, 1, "the parent publishes its jobs; the nested batch its own")
        let mermaid = WorkflowGraph.render(b, format: .mermaid)
        XCTAssertTrue(mermaid.contains(#"n1["batch album-7.2: 2 children"]"#) && mermaid.contains("n1 --> join"), mermaid)
        XCTAssertThrowsError(try WorkflowFile.read("batch:\n  children:\n    - batch: {children: []}\n  on_success: {job: a}\n")) {
            XCTAssertTrue("\($0)".contains("has no children"), "\($0)")
        }
    }

    func testAGroupFollowedByStepsInAFileNeedsAStoreAndIsDrawnAsAFanIn() throws {
        let text = "id: W\nsteps:\n  - job: a\n  - group: [{job: b}, {job: c}]\n  - job: d\n"
        guard case .workflow(let wf) = try WorkflowFile.read(text) else { return XCTFail("not a workflow") }
        XCTAssertTrue(wf.needsStore)
        let mermaid = WorkflowGraph.render(wf, format: .mermaid)
        XCTAssertTrue(mermaid.contains("s2_1 --> j2\n  s2_2 --> j2\n  j2 --> s3"), mermaid)
    }
}
