import Foundation
@testable import Warren
import XCTest

/// ``NodeDecoder`` against Foundation's `JSONDecoder`: where `JSONDecoder` decodes a body, the fast decoder
/// gives the same value or refuses (and ``JSONArguments`` then asks `JSONDecoder`); where `JSONDecoder`
/// refuses, the fast decoder refuses too, and the error users see is `JSONDecoder`'s.
final class NodeDecoderTests: XCTestCase {
    struct Order: Codable, Equatable {
        var file: String
        var customer: String
        var order: Int
        var amount_cents: Int
        var note: String
        var tags: [String]
    }

    enum Colour: String, Codable, Equatable { case red, green }
    enum Level: Int, Codable, Equatable { case low = 1, high = 9 }
    enum Shape: Codable, Equatable { case circle(radius: Double), square(Int) }

    struct Everything: Codable, Equatable {
        var b: Bool
        var i8: Int8, i16: Int16, i32: Int32, i64: Int64
        var u: UInt, u8: UInt8, u16: UInt16, u32: UInt32, u64: UInt64
        var f: Float, d: Double
        var s: String
        var optional: Int?
        var missing: String?
        var nested: [[Int]]
        var map: [String: Order?]
        var numbered: [Int: String]
        var colour: Colour
        var level: Level
        var shapes: [Shape]
        var when: Date
        var data: Data
        var url: URL
        var amount: Decimal
        var set: Set<String>
    }

    private let order = #"{"file":"/tmp/warren-bench-1a2b3c4d/record.txt","customer":"cus_00012345","order":112345,"amount_cents":2344,"note":"deliver to the side door after 6pm, ring twice","tags":["priority","gift"]}"#

    private func foundation<T: Decodable>(_ type: T.Type, _ body: String) -> Result<T, Error> {
        Result { try JSONDecoder().decode(type, from: Data(body.utf8)) }
    }

    private func fast<T: Decodable>(_ type: T.Type, _ body: String) -> Result<T, Error> {
        Result { try JSONArguments.fastDecode(type, from: Array(body.utf8)) }
    }

    /// Both decode `body` and agree.
    private func assertSame<T: Decodable & Equatable>(_ type: T.Type, _ body: String, file: StaticString = #filePath, line: UInt = #line) {
        guard case .success(let expected) = foundation(type, body) else { return XCTFail("JSONDecoder refused \(body)", file: file, line: line) }
        switch fast(type, body) {
        case .success(let got): XCTAssertEqual(got, expected, body, file: file, line: line)
        case .failure(let e): XCTFail("the fast decoder refused \(body): \(e)", file: file, line: line)
        }
    }

    /// `JSONDecoder` refuses `body`, and so does the fast decoder.
    private func assertBothRefuse<T: Decodable>(_ type: T.Type, _ body: String, file: StaticString = #filePath, line: UInt = #line) {
        if case .success = foundation(type, body) { return XCTFail("JSONDecoder decoded \(body)", file: file, line: line) }
        if case .success = fast(type, body) { XCTFail("the fast decoder decoded \(body), JSONDecoder did not", file: file, line: line) }
    }

    func testRealisticArgumentsDecodeTheSame() {
        assertSame(Order.self, order)
        assertSame(Order.self, " \n\t" + order + " \r\n")
        assertSame([Order].self, "[\(order),\(order)]")
    }

    func testEveryKindOfValueDecodesTheSame() {
        let body = #"""
        {"b":true,"i8":-128,"i16":32767,"i32":-2147483648,"i64":9223372036854775807,
         "u":0,"u8":255,"u16":65535,"u32":4294967295,"u64":18446744073709551615,
         "f":0.1,"d":-1.5e-300,"s":"caf\u00e9 \"q\" \\ \/ \b\f\n\r\t \ud83d\ude00 ünï","optional":null,
         "nested":[[],[1,2],[3]],"map":{"a":\#(order),"b":null},"numbered":{"1":"one","-2":"minus two"},
         "colour":"green","level":9,"shapes":[{"circle":{"radius":2.5}},{"square":{"_0":3}}],
         "when":123456.789,"data":"aGVsbG8=","url":"https://example.com/a?b=c","amount":12.345,"set":["x","y"]}
        """#
        assertSame(Everything.self, body)
        assertSame([Double].self, "[0, -0, 1E2, 1e-2, 9007199254740993, 123456789012345678901234567890, 2.5e+3]")
        assertSame([Float].self, "[0.1, 16777217, 3.4e38]")
        assertSame(String.self, #""\u0000 and \u001f""#)
        assertSame([String: [String: Int]].self, #"{"a":{"x":1},"b":{}}"#)
        assertSame(Int?.self, "null")
        assertSame([Int?].self, "[1,null,3]")
    }

    func testWhatJSONDecoderRefusesIsRefused() {
        for bad in ["{", "{\"file\":}", "[1,]", "01", "-", "1.", ".5", "1e", "+1", "tru", "nul",
                    "\"\u{01}\"", #""\x""#, #""\ud800""#, #""\udc00x""#, #""\u12G4""#, "\"unterminated", "{} {}", "NaN", "Infinity"] {
            assertBothRefuse(Double.self, bad)
            assertBothRefuse([String: Int].self, bad)
        }
        XCTAssertThrowsError(try JSONArguments.fastDecode(String.self, from: [0x22, 0xC3, 0x28, 0x22]))  // invalid UTF-8
        assertBothRefuse(Order.self, #"{"file":"f","customer":"c","order":1,"amount_cents":2,"note":"n"}"#)  // missing
        assertBothRefuse(Order.self, order.replacingOccurrences(of: "112345", with: "\"112345\""))  // a string for an Int
        assertBothRefuse(Order.self, order.replacingOccurrences(of: "112345", with: "null"))
        assertBothRefuse(Order.self, order.replacingOccurrences(of: "112345", with: "1.5"))
        assertBothRefuse(Order.self, order.replacingOccurrences(of: "[\"priority\",\"gift\"]", with: "[\"priority\",7]"))
        assertBothRefuse(Int8.self, "128")
        assertBothRefuse(UInt.self, "-1")
        assertBothRefuse(Int.self, "18446744073709551616")
        assertBothRefuse(Float.self, "1e39")
        assertBothRefuse(Bool.self, "1")
        assertBothRefuse(Colour.self, #""blue""#)
        assertBothRefuse(Data.self, #""not base64!""#)
        assertBothRefuse([Int].self, #"{"a":1}"#)
        assertBothRefuse([String: Int].self, "[1]")
        assertBothRefuse(String.self, String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))
    }

    func testErrorsAreJSONDecodersOwn() throws {
        let bodies = [
            order.replacingOccurrences(of: "112345", with: "\"112345\""),
            order.replacingOccurrences(of: "\"note\"", with: "\"notes\""),
            order.replacingOccurrences(of: "[\"priority\",\"gift\"]", with: "[\"priority\",null]"),
            "{not json",
        ]
        for body in bodies {
            let expected: ArgumentsError
            do { _ = try JSONDecoder().decode(Order.self, from: Data(body.utf8)); return XCTFail("decoded \(body)") } catch let e as DecodingError {
                expected = ArgumentsError(e)
            }
            XCTAssertThrowsError(try JSONArguments.decode(Order.self, from: Array(body.utf8))) { error in
                let got = error as? ArgumentsError
                XCTAssertEqual(got?.message, expected.message)
                XCTAssertEqual(got?.reason, expected.reason)
            }
        }
    }

    func testABodyOnlyJSONDecoderReadsStillDecodes() throws {
        // A byte order mark, a duplicate key and a trailing comma in an object are left to JSONDecoder,
        // which reads them.
        XCTAssertThrowsError(try JSONArguments.fastDecode([String: Int].self, from: [0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)))
        XCTAssertEqual(try JSONArguments.decode([String: Int].self, from: [0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)), ["a": 1])
        XCTAssertThrowsError(try JSONArguments.fastDecode([String: Int].self, from: Array(#"{"a":1,"a":2}"#.utf8)))
        let duplicate = try JSONDecoder().decode([String: Int].self, from: Data(#"{"a":1,"a":2}"#.utf8))
        XCTAssertEqual(try JSONArguments.decode([String: Int].self, from: Array(#"{"a":1,"a":2}"#.utf8)), duplicate)
        XCTAssertThrowsError(try JSONArguments.fastDecode([String: Int].self, from: Array(#"{"a":1,}"#.utf8)))
        XCTAssertEqual(try JSONArguments.decode([String: Int].self, from: Array(#"{"a":1,}"#.utf8)), ["a": 1])
        XCTAssertEqual(try JSONArguments.decode([String: Int].self, from: []), [:])  // an empty body reads as {}
    }

    func testLargeObjectsDecodeTheSameAndDuplicatesAreFoundInThem() {
        let members = (0..<5_000).map { #""k\#($0)":\#($0)"# }
        assertSame([String: Int].self, "{" + members.joined(separator: ",") + "}")
        let duplicated = members + [#""k3000":1"#]
        XCTAssertThrowsError(try JSONArguments.fastDecode([String: Int].self, from: Array(("{" + duplicated.joined(separator: ",") + "}").utf8)))
    }

    func testKeysWhoseBytesAreNotTheirTextAreLeftToJSONDecoder() throws {
        // Keys are compared byte for byte: a key with an escape or a non-ASCII byte goes to JSONDecoder.
        for body in [#"{"\u0061":1}"#, #"{"caf\u00e9":1}"#, #"{"café":1}"#] {
            XCTAssertThrowsError(try JSONArguments.fastDecode([String: Int].self, from: Array(body.utf8)), body)
            XCTAssertEqual(try JSONArguments.decode([String: Int].self, from: Array(body.utf8)),
                           try JSONDecoder().decode([String: Int].self, from: Data(body.utf8)), body)
        }
    }

    func testValuesTheTypeDoesNotReadAreCheckedAllTheSame() throws {
        struct FileOnly: Decodable { var file: String }
        XCTAssertEqual(try JSONArguments.fastDecode(FileOnly.self, from: Array(order.utf8)).file, "/tmp/warren-bench-1a2b3c4d/record.txt")
        // Strings are kept as places in the body until read, yet the parser still checks every one: a bad
        // value the type never reads refuses the body, which goes to JSONDecoder (it decodes these, reading
        // only what the type asks for), whose answer stands.
        let bad = [Array(#"{"file":"f","x":"\q"}"#.utf8), Array(#"{"file":"f","x":[1,"\ud800"]}"#.utf8),
                   Array(#"{"file":"f","x":"#.utf8) + [0x22, 0xC3, 0x28, 0x22, 0x7D]]
        for body in bad {
            XCTAssertThrowsError(try JSONArguments.fastDecode(FileOnly.self, from: body))
            XCTAssertEqual(try JSONArguments.decode(FileOnly.self, from: body).file,
                           try JSONDecoder().decode(FileOnly.self, from: Data(body)).file)
        }
        // An escaped value is read with its escapes resolved.
        assertSame([String].self, #"["a\nb", "plain", "\u00e9t\u00e9"]"#)
    }

    func testStringsAreReadTheSameWhereverTheirSpecialBytesFall() {
        // Strings are scanned eight bytes at a time: put each kind of special byte at every offset of a word.
        for special in ["\\\"", "\\n", "é", "😀", "\\u00e9"] {
            for offset in 0..<17 {
                let text = String(repeating: "a", count: offset) + special + String(repeating: "b", count: 17 - offset)
                assertSame([String].self, "[\"\(text)\", \"\(text)x\"]")
            }
        }
        for offset in 0..<17 {  // a control byte or an unterminated string anywhere is refused
            assertBothRefuse(String.self, "\"" + String(repeating: "a", count: offset) + "\u{01}" + "bbbbbbbbb\"")
            assertBothRefuse(String.self, "\"" + String(repeating: "a", count: offset))
        }
    }
}
