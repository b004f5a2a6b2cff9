import Foundation
import Mustache
@testable import Warren
@testable import WarrenDashboard
import XCTest

/// The jobs and workflows pages without a browser: the workflow diagram's placement and colours, and job
/// data (results, errors, names) escaped in the templates.
final class DashboardJobsTests: XCTestCase {
    static let attack = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>"

    func testDiagramPlacesEveryNodeInItsOwnCellColouredByState() {
        let saga = Workflow(id: "W", kind: .saga, steps: [
            .job(WorkflowJob(name: "reserve"), compensation: WorkflowJob(name: "release")),
            .group([.job("a"), .job("b"), .job("c")]),
            .job(WorkflowJob(name: "charge"), compensation: WorkflowJob(name: "refund")),
        ], onFailure: WorkflowJob(name: "alert"))
        let d = WorkflowDiagram(saga, states: ["W.1": .succeeded, "W.2.2": .running, "W.3": .dead, "W.undo-3": .retrying])
        let cells = d.boxes.map { "\($0.x),\($0.y)" }
        XCTAssertEqual(Set(cells).count, d.boxes.count, "two nodes share a cell: \(cells)")
        let box = Dictionary(uniqueKeysWithValues: d.boxes.map { ($0.jobID, $0) })
        XCTAssertEqual(box["W.1"]?.state, "succeeded")
        XCTAssertEqual(box["W.2.2"]?.state, "running")
        XCTAssertEqual(box["W.3"]?.state, "dead")
        XCTAssertEqual(box["W.2.1"]?.state, "pending")
        // A group's children stack in one column; compensations sit under their steps, the on-failure job
        // under the first compensation (the end of the undo chain).
        XCTAssertEqual(box["W.2.1"]?.x, box["W.2.3"]?.x)
        XCTAssertLessThan(box["W.2.1"]!.y, box["W.2.3"]!.y)
        XCTAssertEqual(box["W.undo-1"]?.x, box["W.1"]?.x)
        XCTAssertGreaterThan(box["W.undo-1"]!.y, box["W.2.3"]!.y)
        XCTAssertEqual(box["W.on-failure"]?.x, box["W.undo-1"]?.x)
        XCTAssertGreaterThan(box["W.on-failure"]!.y, box["W.undo-1"]!.y)
        XCTAssertEqual(d.lines.count, WorkflowGraph.layout(saga).edges.count)
        XCTAssertTrue(d.boxes.allSatisfy { $0.x + WorkflowDiagram.nodeWidth <= d.width && $0.y + WorkflowDiagram.nodeHeight <= d.height })
    }

    func testJobAndWorkflowPagesEscapeJobData() throws {
        var library = MustacheLibrary()
        for (name, text) in [("header", Templates.header), ("footer", Templates.footer), ("noStore", Templates.noStore),
                             ("job", Templates.job), ("workflow", Templates.workflow)] {
            try library.register(text, named: name)
        }
        var s = JobStatus(id: "W.1", state: .dead, attempt: 3)
        s.name = Self.attack
        s.result = #"{"note": "\#(Self.attack.replacingOccurrences(of: "\"", with: "\\\""))"}"#
        s.lastError = Self.attack
        s.deadReason = Self.attack
        s.progress = 0.4
        s.progressMessage = Self.attack
        let job = library.render(["job": Views.job(s), "base": "", "title": "t"] as [String: Any], withTemplate: "job") ?? ""
        XCTAssertTrue(job.contains(#"<pre id="job-result">{"#), "result pretty-printed: \(job)")
        XCTAssertTrue(job.contains(#"<progress max="100" value="40">"#), job)
        XCTAssertTrue(job.contains(#"href="/workflows?id=W""#), job)
        let wf = Workflow(id: "W", kind: .chain, steps: [.job(WorkflowJob(name: Self.attack))])
        var diagram = WorkflowDiagram(wf, states: [:]).context(base: "")
        diagram["id"] = Self.attack
        let page = library.render(["diagram": diagram, "base": "", "title": "t", "id": Self.attack] as [String: Any], withTemplate: "workflow") ?? ""
        for html in [job, page] {
            XCTAssertFalse(html.contains("<script>alert"), html)
            XCTAssertFalse(html.contains("<img"), html)
            XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), html)
        }
    }

    func testWithoutAStoreThePagesNameTheSetting() throws {
        var library = MustacheLibrary()
        for (name, text) in [("header", Templates.header), ("footer", Templates.footer), ("noStore", Templates.noStore), ("jobs", Templates.jobs)] {
            try library.register(text, named: name)
        }
        let html = library.render(["noStore": Dashboard.noStoreText, "base": "", "title": "Jobs"] as [String: Any], withTemplate: "jobs") ?? ""
        XCTAssertTrue(html.contains("WARREN_STORE"), html)
        XCTAssertFalse(html.contains("id=\"job-filters\""), html)
    }
}

/// Times on the pages: UTC, ISO-8601 to the second, as the CLI prints them.
final class DeadLetterTextTimeTests: XCTestCase {
    func testUTCToTheSecond() {
        XCTAssertEqual(DeadLetterText.time(Date(timeIntervalSince1970: 1_900_000_000.7)), "2030-03-17T17:46:40Z")
        XCTAssertEqual(DeadLetterText.time(nil), "-")
    }
}
