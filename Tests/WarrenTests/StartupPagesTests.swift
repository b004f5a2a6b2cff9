import Foundation
import XCTest
@testable import Warren

final class StartupPagesTests: XCTestCase {
    private func residentKB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try XCTUnwrap(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }

    /// Clean code pages are given back, and the process goes on running code from them (they fault back in).
    func testReleasesCleanCodePagesAndKeepsRunning() throws {
        #if os(Linux)
        let before = try residentKB()
        let released = StartupPages.release()
        let after = try residentKB()
        XCTAssertGreaterThan(released, 1 << 20, "at least the test binary's code is eligible")
        XCTAssertLessThan(after, before, "resident memory drops")
        // Code and constants fault back in: encoding, hashing, formatting all still work.
        let id = JobID.make()
        XCTAssertEqual(id.count, 36)
        let json = try JSONArguments.encode(["id": id])
        XCTAssertEqual(String(decoding: json, as: UTF8.self), "{\"id\":\"\(id)\"}")
        #else
        throw XCTSkip("Linux only")
        #endif
    }
}
