import Foundation
import Warren
import WarrenStore
import XCTest

/// One conformance suite, run against both backends (real SQLite file, real PostgreSQL): every test
/// loops over ``StoreBackends/each(_:)``.
final class StoreConformanceTests: XCTestCase {
    func update(_ id: String, _ state: JobState, attempt: Int = 1, at: Date = Date(), _ edit: (inout JobUpdate) -> Void = { _ in }) -> JobUpdate {
        var u = JobUpdate(id: id, state: state, attempt: attempt, at: at)
        u.name = "conf"
        u.queue = "q.conf"
        edit(&u)
        return u
    }

    func testLifecycleLookupAndNoMovingBack() async throws {
        try await StoreBackends.each { backend, store, _ in
            let id = StoreBackends.id("life")
            let unknown = try await store.status(id)
            XCTAssertEqual(unknown.state, .unknown, backend)
            try await store.write(StoreBatch(updates: [update(id, .enqueued) { $0.enqueuedAt = Date() }]))
            try await store.write(StoreBatch(updates: [update(id, .running) { $0.worker = "w1"; $0.startedAt = Date() }]))
            try await store.write(StoreBatch(updates: [update(id, .running) { $0.progress = 0.5; $0.progressMessage = "half" }]))
            var s = try await store.status(id)
            XCTAssertEqual(s.state, .running, backend)
            XCTAssertEqual(s.progress, 0.5, backend)
            XCTAssertEqual(s.progressMessage, "half", backend)
            XCTAssertEqual(s.worker, "w1", backend)
            try await store.write(StoreBatch(updates: [update(id, .succeeded) { $0.result = "{\"total\":42}"; $0.finishedAt = Date() }]))
            // Late or repeated writes of lower rank do not move it back.
            try await store.write(StoreBatch(updates: [update(id, .enqueued), update(StoreBackends.id("other"), .enqueued)]))
            try await store.write(StoreBatch(updates: [update(id, .running) { $0.worker = "w2" }]))
            s = try await store.status(id)
            XCTAssertEqual(s.state, .succeeded, backend)
            XCTAssertEqual(s.result, "{\"total\":42}", backend)
            XCTAssertEqual(s.name, "conf", backend)
            XCTAssertNotNil(s.enqueuedAt, backend)
            XCTAssertNotNil(s.startedAt, backend)
            XCTAssertNotNil(s.finishedAt, backend)
            XCTAssertEqual(s.worker, "w1", backend)
        }
    }

    /// Every text a job can carry comes back as written, whatever it holds (quotes, backslashes, braces,
    /// commas, the word NULL, non-ASCII, newlines), missing fields stay missing, and times and fractions are
    /// exact: PostgreSQL's writes travel as binary column arrays, SQLite's as row binds.
    func testAwkwardValuesRoundTripInOneGroupCommit() async throws {
        try await StoreBackends.each { backend, store, _ in
            let texts = [#"{"a":"x\"y\\z","list":[1,2]}"#, "NULL", "", "comma, {braces} and \"quotes\"", "back\\slash\\",
                         "🐇 wär\nline two\ttab", "null", String(repeating: "x", count: 5_000)]
            let at = Date(timeIntervalSince1970: 1_795_000_000.123)
            let ids = texts.indices.map { _ in StoreBackends.id("text") }
            let updates = zip(ids, texts).enumerated().map { i, pair in
                self.update(pair.0, .succeeded, at: at) { u in
                    u.result = pair.1
                    u.lastError = "E: " + pair.1
                    u.progressMessage = pair.1
                    u.progress = i == 0 ? nil : Double(i) / 7
                    u.finishedAt = at
                    if i == 1 { u.name = nil; u.queue = nil }
                }
            }
            try await store.write(StoreBatch(updates: updates))
            for (i, id) in ids.enumerated() {
                let s = try await store.status(id)
                XCTAssertEqual(s.state, .succeeded, backend)
                XCTAssertEqual(s.result, texts[i], "\(backend) result \(i)")
                XCTAssertEqual(s.lastError, "E: " + texts[i], "\(backend) error \(i)")
                XCTAssertEqual(s.progressMessage, texts[i], "\(backend) message \(i)")
                XCTAssertEqual(s.progress, i == 0 ? nil : Double(i) / 7, "\(backend) progress \(i)")
                XCTAssertEqual(s.finishedAt?.timeIntervalSince1970, 1_795_000_000.123, "\(backend) time \(i)")
                XCTAssertEqual(s.name, i == 1 ? nil : "conf", "\(backend) name \(i)")
                XCTAssertEqual(s.queue, i == 1 ? nil : "q.conf", "\(backend) queue \(i)")
            }
        }
    }

    func testRetryThenDeadAndList() async throws {
        try await StoreBackends.each { backend, store, _ in
            let id = StoreBackends.id("dead")
            let queue = "q.\(id)"
            try await store.write(StoreBatch(updates: [update(id, .retrying) { $0.queue = queue; $0.lastError = "E: first" }]))
            try await store.write(StoreBatch(updates: [update(id, .running, attempt: 2) { $0.queue = queue }]))
            var s = try await store.status(id)
            XCTAssertEqual(s.state, .running, backend)
            XCTAssertEqual(s.attempt, 2, backend)
            XCTAssertEqual(s.lastError, "E: first", backend)
            try await store.write(StoreBatch(updates: [update(id, .dead, attempt: 2) { $0.queue = queue; $0.deadReason = "exhausted"; $0.lastError = "E: second" }]))
            // The first attempt's outcome, arriving late, does not overwrite the second's.
            try await store.write(StoreBatch(updates: [update(id, .retrying, attempt: 1) { $0.queue = queue; $0.lastError = "E: late" }]))
            s = try await store.status(id)
            XCTAssertEqual(s.state, .dead, backend)
            XCTAssertEqual(s.deadReason, "exhausted", backend)
            XCTAssertEqual(s.lastError, "E: second", backend)
            let listed = try await store.list(JobQuery(state: .dead, queue: queue, limit: 10))
            XCTAssertEqual(listed.map(\.id), [id], backend)
            let none = try await store.list(JobQuery(state: .succeeded, queue: queue, limit: 10))
            XCTAssertEqual(none.count, 0, backend)
        }
    }

    func testLargeBatchIsWrittenWhole() async throws {
        try await StoreBackends.each { backend, store, _ in
            let prefix = StoreBackends.id("bulk")
            let queue = "q.\(prefix)"
            // More rows than one statement carries, with repeats that coalesce.
            var updates = (0..<1_200).map { i in self.update("\(prefix)-\(i)", .running) { $0.queue = queue } }
            updates += (0..<1_200).map { i in self.update("\(prefix)-\(i)", .succeeded) { $0.queue = queue } }
            try await store.write(StoreBatch(updates: JobUpdate.coalesce(updates)))
            let done = try await store.list(JobQuery(state: .succeeded, queue: queue, limit: 5_000))
            XCTAssertEqual(done.count, 1_200, backend)
        }
    }

    func testSweepExpiresFinishedMarksStaleLostAndIsBounded() async throws {
        try await StoreBackends.each { backend, store, _ in
            let prefix = StoreBackends.id("sweep")
            // The sweep runs "in the past" (2001), so only this test's rows are old enough for it, whatever else
            // the shared database holds: the bounds below count this test's rows only.
            let now = Date(timeIntervalSince1970: 978_307_200 + 7_200)
            let old = now.addingTimeInterval(-7_200)
            let finished = (0..<25).map { i in self.update("\(prefix)-f\(i)", .succeeded, at: old) { $0.finishedAt = old } }
            let stale = update("\(prefix)-stale", .running, at: old)
            let fresh = update("\(prefix)-fresh", .running, at: now.addingTimeInterval(-5))
            let recent = update("\(prefix)-recent", .succeeded, at: now) { $0.finishedAt = now }
            try await store.write(StoreBatch(updates: finished + [stale, fresh, recent]))
            let policy = SweepPolicy(retention: .seconds(3_600), staleAfter: .seconds(600), batchSize: 10, maxBatches: 2)
            let first = try await store.sweep(policy, now: now)
            XCTAssertEqual(first.deleted, 20, "\(backend): bounded by batchSize x maxBatches")
            XCTAssertEqual(first.lost, 1, backend)
            let second = try await store.sweep(policy, now: now)
            XCTAssertEqual(second.deleted, 5, "\(backend): the rest of the 25")
            XCTAssertEqual(second.lost, 0, "\(backend): lost once")
            for i in 0..<25 {
                let gone = try await store.status("\(prefix)-f\(i)")
                XCTAssertEqual(gone.state, .unknown, backend)
            }
            let lost = try await store.status("\(prefix)-stale")
            XCTAssertEqual(lost.state, .lost, backend)
            let freshState = try await store.status("\(prefix)-fresh").state
            let recentState = try await store.status("\(prefix)-recent").state
            XCTAssertEqual(freshState, .running, backend)
            XCTAssertEqual(recentState, .succeeded, backend)
            // The redelivered attempt runs again and overwrites `lost`.
            try await store.write(StoreBatch(updates: [update("\(prefix)-stale", .running)]))
            let rerun = try await store.status("\(prefix)-stale").state
            XCTAssertEqual(rerun, .running, backend)
            try await store.write(StoreBatch(updates: [update("\(prefix)-stale", .succeeded)]))
            let redone = try await store.status("\(prefix)-stale").state
            XCTAssertEqual(redone, .succeeded, backend)
        }
    }

    func testMigrateTwiceAndConcurrently() async throws {
        try await StoreBackends.each { backend, store, url in
            async let a = url.open(logger: quietLogger("test.store"))
            async let b = url.open(logger: quietLogger("test.store"))
            let (sa, sb) = try await (a, b)
            let again = try await store.migrate()
            XCTAssertEqual(again.from, again.to, backend)
            await sa.close()
            await sb.close()
        }
    }

    func testUniqueClaimHeldReleasedAndExpired() async throws {
        try await StoreBackends.each { backend, store, _ in
            let key = StoreBackends.id("key")
            let first = StoreBackends.id("u1")
            let claimed = try await store.claim(.key(key, for: .seconds(600)), for: update(first, .enqueued))
            XCTAssertEqual(claimed, .claimed, backend)
            let second = try await store.claim(.key(key, for: .seconds(600)), for: update(StoreBackends.id("u2"), .enqueued))
            XCTAssertEqual(second, .held(by: first), backend)
            let holder = try await store.holder(of: key, now: Date())
            XCTAssertEqual(holder, first, backend)
            // Only the holder's release frees it.
            try await store.write(StoreBatch(releases: [UniqueRelease(key: key, jobID: "someone-else")]))
            let stillHeld = try await store.holder(of: key, now: Date())
            XCTAssertEqual(stillHeld, first, backend)
            try await store.write(StoreBatch(releases: [UniqueRelease(key: key, jobID: first)]))
            let third = StoreBackends.id("u3")
            let again = try await store.claim(.key(key, for: .milliseconds(1)), for: update(third, .enqueued))
            XCTAssertEqual(again, .claimed, backend)
            // An expired lock is taken over, never blocks.
            let later = update(StoreBackends.id("u4"), .enqueued, at: Date().addingTimeInterval(1))
            let takeover = try await store.claim(.key(key, for: .seconds(600)), for: later)
            XCTAssertEqual(takeover, .claimed, backend)
        }
    }

    /// 8 producers (each its own store connection) claim one key 250 times each at once: exactly one wins
    /// (JobTrackerTests repeats it at 1,000 each, through the broker).
    func testUniqueClaimRaceEightProducers() async throws {
        let path = StoreBackends.sqlitePath()
        for backend in ["sqlite", "postgres"] {
            let url = backend == "sqlite" ? StoreURL.sqlite(path: path) : try StoreBackends.postgresURL()
            var stores: [any JobStore] = []
            for _ in 0..<8 { stores.append(try await url.open(logger: quietLogger("test.store"))) }
            let key = StoreBackends.id("race")
            let all = stores
            let outcomes: [UniqueClaim]
            do {
            outcomes = try await withThrowingTaskGroup(of: [UniqueClaim].self) { group in
                for (p, store) in stores.enumerated() {
                    group.addTask {
                        var mine: [UniqueClaim] = []
                        for i in 0..<250 {
                            var u = JobUpdate(id: "\(key)-p\(p)-\(i)", state: .enqueued, attempt: 1)
                            u.queue = "q.race"
                            mine.append(try await store.claim(.key(key, for: .seconds(600)), for: u))
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            } catch {
                for s in all { await s.close() }
                throw error
            }
            let winners = outcomes.filter { $0 == .claimed }
            XCTAssertEqual(winners.count, 1, "\(backend): exactly one claim wins")
            let holders = Set(outcomes.compactMap { if case .held(let by) = $0 { by } else { nil } })
            XCTAssertEqual(holders.count, 1, "\(backend): every loser names the same holder")
            let recorded = try await stores[0].list(JobQuery(queue: "q.race", limit: 10_000)).filter { $0.id.hasPrefix(key) }
            XCTAssertEqual(recorded.count, 1, "\(backend): one job row, none for the losers")
            for s in stores { await s.close() }
        }
    }
}
