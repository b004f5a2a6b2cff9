import Foundation
import Mustache
@testable import Warren
import WarrenAMQP
import WarrenManagement
@testable import WarrenDashboard
import XCTest

/// The dashboard's rules without a browser: login checks and their limiter, escaping in every template,
/// the filter read from query fields, and rates and schedules from announcements.
final class DashboardRulesTests: XCTestCase {
    func testGatekeeperAcceptsTokenRefusesOthersAndLimitsPerClient() {
        let g = Gatekeeper(token: "correct-horse-battery", maxFailures: 3, window: 60)
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        XCTAssertEqual(g.check("correct-horse-battery", client: "a", now: t0), .accepted)
        for i in 0..<3 { XCTAssertEqual(g.check("nope", client: "a", now: t0 + Double(i)), .refused) }
        XCTAssertEqual(g.check("correct-horse-battery", client: "a", now: t0 + 5), .limited, "limited even with the right token")
        XCTAssertEqual(g.check("correct-horse-battery", client: "b", now: t0 + 5), .accepted, "other clients unaffected")
        XCTAssertEqual(g.check("correct-horse-battery", client: "a", now: t0 + 70), .accepted, "window over")
        XCTAssertEqual(g.check("correct-horse-batter", client: "c", now: t0), .refused, "prefix is not enough")
        let s = g.open(now: t0)
        XCTAssertEqual(g.session(s.id, now: t0 + 1)?.csrf, s.csrf)
        XCTAssertNotEqual(s.id, s.csrf)
        g.close(s.id)
        XCTAssertNil(g.session(s.id, now: t0 + 2))
    }

    func testTokenFromEnvironmentOrFileNeverDefault() throws {
        XCTAssertThrowsError(try DashboardConfiguration.token(environment: [:]))
        XCTAssertThrowsError(try DashboardConfiguration.token(environment: ["WARREN_DASHBOARD_TOKEN": "short"]))
        XCTAssertEqual(try DashboardConfiguration.token(environment: ["WARREN_DASHBOARD_TOKEN": "0123456789abcdef"]), "0123456789abcdef")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dash-\(UUID().uuidString)")
        try "from-the-file-123\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertEqual(try DashboardConfiguration.token(environment: ["WARREN_DASHBOARD_TOKEN_FILE": file.path]), "from-the-file-123")
    }

    func testTemplatesNeverOutputRawValues() throws {
        for text in [Templates.header, Templates.footer, Templates.login, Templates.overview, Templates.queues, Templates.workers,
                     Templates.schedules, Templates.noStore, Templates.jobs, Templates.job, Templates.workflow, Templates.limits,
                     Templates.filterFields, Templates.deadLetters, Templates.deadLetter, Templates.confirm] {
            XCTAssertFalse(text.contains("{{{"), "triple mustache outputs raw HTML")
            XCTAssertFalse(text.contains("{{&"), "ampersand tag outputs raw HTML")
            XCTAssertFalse(text.contains("<script>"), "no inline script")
            XCTAssertNil(text.range(of: #"\son[a-z]+\s*="#, options: .regularExpression), "no inline event handler")
        }
        let attack = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>"
        var headers: FieldTable = [WireFormat.Header.errorMessage: .string(attack)]
        headers[WireFormat.Header.errorType] = .string(attack)
        let letter = DeadLetter(deadLetterQueue: "q.dead", properties: BasicProperties(headers: headers, messageID: attack),
                                body: Array("{\"args\": \"\(attack.replacingOccurrences(of: "\"", with: "\\\""))\"}".utf8))
        var library = MustacheLibrary()
        try library.register(Templates.header, named: "header")
        try library.register(Templates.footer, named: "footer")
        try library.register(Templates.deadLetter, named: "deadLetter")
        let html = library.render(["letter": Views.letter(letter), "base": "", "title": attack] as [String: Any], withTemplate: "deadLetter") ?? ""
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), html)
        XCTAssertFalse(html.contains("<script>alert"))
        XCTAssertFalse(html.contains("<img"))
        XCTAssertTrue(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), html)
    }

    func testFilterFromQueryFields() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let f = try DeadLetterFilter(fields: ["job": "a, b", "reason": "", "error": "time.*out", "failed_before": "2h", "min_attempts": "2"], now: now)
        XCTAssertEqual(f.jobs, ["a", "b"])
        XCTAssertTrue(f.reasons.isEmpty)
        XCTAssertEqual(f.failedBefore, now.addingTimeInterval(-7200))
        XCTAssertEqual(f.minAttempts, 2)
        XCTAssertThrowsError(try DeadLetterFilter(fields: ["error": "("]))
        XCTAssertThrowsError(try DeadLetterFilter(fields: ["min_attempts": "many"]))
        XCTAssertThrowsError(try DeadLetterFilter(fields: ["failed_after": "yesterday-ish"]))
        XCTAssertTrue(try DeadLetterFilter(fields: [:]).isEmpty)
    }

    private func worker(_ id: String, done: Int, failed: Int, at: Date, stopping: Bool = false) -> Announcement {
        var c = Announcement.QueueCounters()
        c.succeeded = done
        c.failed = failed
        return Announcement(role: "worker", id: id, host: "h", pid: 1, queues: ["q"], concurrency: 4, busy: 0, jobsDone: done + failed,
                            counters: ["q": c], startedAt: at, sentAt: at, interval: 5, stopping: stopping)
    }

    func testBoardRatesFromAnnouncementDifferencesAndExpiry() {
        let board = PresenceBoard(bucketSeconds: 5, historyBuckets: 12, rateWindow: 30)
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        board.receive(worker("w1", done: 1000, failed: 0, at: t0), now: t0)  // baseline only
        XCTAssertTrue(board.activity(now: t0).queues.isEmpty)
        board.receive(worker("w1", done: 1100, failed: 30, at: t0 + 5), now: t0 + 5)
        board.receive(worker("w2", done: 10, failed: 0, at: t0 + 5), now: t0 + 5)
        board.receive(worker("w2", done: 70, failed: 0, at: t0 + 10), now: t0 + 10)
        let a = board.activity(now: t0 + 10)
        XCTAssertEqual(a.queues.map(\.queue), ["q"])
        XCTAssertEqual(a.queues[0].processed, 190.0 / 30, accuracy: 1e-9)
        XCTAssertEqual(a.queues[0].failed, 30.0 / 30, accuracy: 1e-9)
        XCTAssertEqual(a.history.count, 12)
        XCTAssertEqual(a.history.last!.processed, 60.0 / 5, accuracy: 1e-9)
        XCTAssertEqual(board.processes(now: t0 + 10).map(\.id), ["w1", "w2"])
        XCTAssertEqual(board.processes(now: t0 + 5 + 15.5).map(\.id), ["w2"], "w1 silent for 3 intervals: gone")
        board.receive(worker("w2", done: 70, failed: 0, at: t0 + 21, stopping: true), now: t0 + 21)
        XCTAssertTrue(board.processes(now: t0 + 21).isEmpty, "a stopping worker disappears at once")
        XCTAssertTrue(board.activity(now: t0 + 100).queues.isEmpty, "old buckets leave the window")
    }

    func testScheduleStatusTakesLeaderAndLatestFire() {
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        func replica(_ pid: Int32, leading: Bool, last: Date?) -> Announcement {
            Announcement(role: "scheduler", id: "s\(pid)", host: "h", pid: pid, queues: ["q"], concurrency: nil, busy: 0, jobsDone: 0,
                         counters: [:], startedAt: t0, sentAt: t0, interval: 5, stopping: false, leading: leading,
                         schedules: [.init(name: "nightly", expression: "cron 0 3 * * * (UTC)", job: "report", queue: "q",
                                           nextFires: [t0 + Double(pid)], lastFire: last)])
        }
        let s = ScheduleStatus.from([replica(1, leading: false, last: t0 - 100), replica(2, leading: true, last: nil), replica(3, leading: false, last: t0 - 50)])
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s[0].leader, "h:2")
        XCTAssertEqual(s[0].nextFires, [t0 + 2])
        XCTAssertEqual(s[0].lastFire, t0 - 50)
        XCTAssertEqual(s[0].replicas, 3)
        XCTAssertNil(ScheduleStatus.from([replica(1, leading: false, last: nil)])[0].leader)
    }
}

/// Where the management API is, from the environment and the AMQP URL, and what a stranger's message on the
/// presence exchange does (nothing).
final class ManagementConfigurationTests: XCTestCase {
    func testDefaultsFollowTheAMQPURLAndExplicitURLWins() throws {
        let amqp = try AMQPConfiguration(url: "amqp://alice:s3cret@broker.local:5672/prod")
        let d = try XCTUnwrap(try ManagementConfiguration(environment: [:], amqp: amqp))
        XCTAssertEqual(d.baseURL, "http://broker.local:15672")
        XCTAssertEqual(d.user, "alice")
        XCTAssertEqual(d.password, "s3cret")
        XCTAssertEqual(d.virtualHost, "prod")
        XCTAssertFalse(d.description.contains("s3cret"))
        let e = try XCTUnwrap(try ManagementConfiguration(environment: ["WARREN_MANAGEMENT_URL": "https://mon:p%40ss@10.0.0.1:443/x"], amqp: amqp))
        XCTAssertEqual(e.baseURL, "https://10.0.0.1:443")
        XCTAssertEqual(e.user, "mon")
        XCTAssertEqual(e.password, "p@ss")
        XCTAssertNil(try ManagementConfiguration(environment: ["WARREN_MANAGEMENT_URL": "off"], amqp: amqp))
        XCTAssertThrowsError(try ManagementConfiguration(environment: ["WARREN_MANAGEMENT_URL": "ftp://x"], amqp: amqp))
    }

    func testGarbageOnThePresenceExchangeIsIgnored() {
        XCTAssertNil(Announcement.decode(Array("<script>alert(1)</script>".utf8)))
        XCTAssertNil(Announcement.decode(Array(#"{"role": "worker"}"#.utf8)))
    }
}
