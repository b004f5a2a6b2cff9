import CRabbitMQ
@testable import WarrenAMQP
import XCTest

final class StringInternerTests: XCTestCase {
    /// Runs `body` with `bytes` as the library's `amqp_bytes_t`.
    private func withC<T>(_ bytes: [UInt8], _ body: (amqp_bytes_t) -> T) -> T {
        var copy = bytes
        return copy.withUnsafeMutableBytes { body(amqp_bytes_t(len: $0.count, bytes: $0.baseAddress)) }
    }

    func testTheSameBytesGiveTheSameStringAndOthersTheirOwn() {
        var interner = StringInterner()
        let tag = Array("amq.ctag-0123456789abcdefghijkl".utf8)
        let a = withC(tag) { interner.string($0) }
        let b = withC(tag) { interner.string($0) }
        XCTAssertEqual(a, "amq.ctag-0123456789abcdefghijkl")
        XCTAssertEqual(a, b)
        // Same length, one byte different: never mistaken for the kept one.
        var other = tag
        other[other.count - 1] = UInt8(ascii: "m")
        XCTAssertEqual(withC(other) { interner.string($0) }, "amq.ctag-0123456789abcdefghijkm")
        XCTAssertEqual(withC(tag) { interner.string($0) }, a)
        XCTAssertEqual(withC([]) { interner.string($0) }, "")
        XCTAssertEqual(interner.string(amqp_bytes_t(len: 0, bytes: nil)), "")
    }

    func testDecodesAsTheLibrarysBytesDo() {
        var interner = StringInterner()
        // Invalid UTF-8 is repaired exactly as `amqp_bytes_t.string` repairs it, the first time and the next.
        let invalid: [UInt8] = [0x6A, 0xFF, 0x6F, 0x62]
        let expected = withC(invalid) { $0.string }
        XCTAssertEqual(withC(invalid) { interner.string($0) }, expected)
        XCTAssertEqual(withC(invalid) { interner.string($0) }, expected)
        let long = [UInt8](repeating: UInt8(ascii: "q"), count: StringInterner.maxBytes + 1)
        XCTAssertEqual(withC(long) { interner.string($0) }, String(repeating: "q", count: StringInterner.maxBytes + 1))
        XCTAssertEqual(withC(Array("héllo".utf8)) { interner.string($0) }, "héllo")
    }

    func testMoreStringsThanItKeepsStayCorrect() {
        var interner = StringInterner()
        let names = (0..<(StringInterner.capacity * 3)).map { "queue-\($0)" }
        for _ in 0..<3 {
            for name in names { XCTAssertEqual(withC(Array(name.utf8)) { interner.string($0) }, name) }
        }
    }
}
