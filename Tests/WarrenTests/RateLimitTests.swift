import Warren
import XCTest

/// Rate-limit text and refill arithmetic, without a broker; and the CLI's limit options.
final class RateLimitTests: XCTestCase {
    func testParsesRatesAndBursts() throws {
        let a = try RateLimit(parsing: "200/s")
        XCTAssertEqual(a.count, 200)
        XCTAssertEqual(a.period, .seconds(1))
        XCTAssertEqual(a.burst, 200)
        let b = try RateLimit(parsing: "10/min")
        XCTAssertEqual(b.period, .seconds(60))
        XCTAssertEqual(b.burst, 1, "a slow rate saves up at most one second's worth, at least one token")
        XCTAssertEqual(try RateLimit(parsing: "50/s:5").burst, 5)
        XCTAssertEqual(try RateLimit(parsing: "3/h").period, .seconds(3600))
        for bad in ["200", "x/s", "0/s", "5/fortnight", "5/s:0", "5/s:x"] {
            XCTAssertThrowsError(try RateLimit(parsing: bad), bad) { XCTAssertEqual(($0 as? WarrenError)?.code, .invalidInput) }
        }
    }

    func testRefillAddsTheRateAndCarriesFractions() {
        let limit = RateLimit(count: 200, per: .seconds(1))
        XCTAssertEqual(limit.refill(elapsed: .milliseconds(20), carry: 0).tokens, 4)
        var carry = 0.0
        var total = 0
        let slow = RateLimit(count: 10, per: .seconds(60))
        for _ in 0..<3000 {  // 60 s of 20 ms ticks
            let r = slow.refill(elapsed: .milliseconds(20), carry: carry)
            total += r.tokens
            carry = r.carry
        }
        XCTAssertEqual(total, 10)
        XCTAssertEqual(limit.refill(elapsed: .milliseconds(-5), carry: 0.5).tokens, 0)
    }

    func testLimitOptionsApplyToRegisteredJobsOnly() throws {
        var r = JobRegistry()
        r.register(name: "span") { _, _ in }
        r.register(name: "mail") { _, _ in }
        try r.applyLimits(global: ["span=4", "mail.tenant=2"], rate: ["mail=10/min"])
        XCTAssertEqual(r["span"]?.globalLimit?.permits, 4)
        XCTAssertNil(r["span"]?.globalLimit?.key)
        XCTAssertEqual(r["mail"]?.globalLimit?.key?(Array("{\"tenant\":\"acme\"}".utf8)), "acme")
        XCTAssertEqual(r["mail"]?.rateLimit?.count, 10)
        for (global, rate) in [(["nope=3"], [String]()), (["span=0"], []), (["span"], []), ([], ["span=fast"])] {
            XCTAssertThrowsError(try r.applyLimits(global: global, rate: rate)) { XCTAssertEqual(($0 as? WarrenError)?.code, .invalidInput) }
        }
    }
}
