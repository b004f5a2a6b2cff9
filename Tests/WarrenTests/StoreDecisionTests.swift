import Foundation
@testable import Warren
import WarrenAMQP
@testable import WarrenStore
import XCTest

/// Broker- and database-free tests of the store's pure rules: state order, batching merge, unique-key
/// release, what the tracker writes per settlement, and store URLs.
final class StoreDecisionTests: XCTestCase {
    /// A stored batch definition is decoded once per text and kept; an unreadable one is an error naming the
    /// batch, never kept; a full cache starts over.
    func testBatchDefinitionsAreDecodedOncePerText() throws {
        let cache = DefinitionCache()
        let definition = BatchDefinition(id: "b-1", callbacks: [.success: WorkflowJob(name: "done")], parent: (batch: "p", child: "p.3"))
        let text = String(decoding: try JSONEncoder().encode(definition), as: UTF8.self)
        XCTAssertEqual(try cache.decode(text, batch: "b-1"), definition)
        XCTAssertEqual(try cache.decode(text, batch: "b-1"), definition, "kept")
        XCTAssertThrowsError(try cache.decode("{not json", batch: "b-2")) { error in
            XCTAssertEqual((error as? StoreError)?.code, .query)
            XCTAssertTrue("\(error)".contains("batch b-2: its stored definition is unreadable"), "\(error)")
        }
        for k in 0...DefinitionCache.limit {
            var other = definition
            other.id = "b-\(k)"
            let t = String(decoding: try JSONEncoder().encode(other), as: UTF8.self)
            XCTAssertEqual(try cache.decode(t, batch: other.id).id, "b-\(k)")
        }
        XCTAssertEqual(try cache.decode(text, batch: "b-1"), definition, "decoded again after the cache started over")
    }

    func testStatesOnlyMoveForward() {
        XCTAssertTrue(JobState.running.replaces(.enqueued, attempt: 1, storedAttempt: 1))
        XCTAssertFalse(JobState.enqueued.replaces(.running, attempt: 1, storedAttempt: 1))
        XCTAssertFalse(JobState.running.replaces(.succeeded, attempt: 1, storedAttempt: 1))
        XCTAssertTrue(JobState.succeeded.replaces(.succeeded, attempt: 1, storedAttempt: 1), "a redelivered attempt overwrites itself")
        XCTAssertTrue(JobState.running.replaces(.retrying, attempt: 2, storedAttempt: 1))
        XCTAssertFalse(JobState.retrying.replaces(.dead, attempt: 1, storedAttempt: 2))
        XCTAssertTrue(JobState.running.replaces(.lost, attempt: 1, storedAttempt: 1), "a rerun replaces lost")
    }

    func testCoalesceKeepsOneRowPerJobWithFieldsOfBoth() {
        var run = JobUpdate(id: "a", state: .running, attempt: 1, at: Date(timeIntervalSince1970: 1))
        run.worker = "w"
        run.startedAt = Date(timeIntervalSince1970: 1)
        var progress = JobUpdate(id: "a", state: .running, attempt: 1, at: Date(timeIntervalSince1970: 2))
        progress.progress = 0.5
        var done = JobUpdate(id: "a", state: .succeeded, attempt: 1, at: Date(timeIntervalSince1970: 3))
        done.result = "1"
        let other = JobUpdate(id: "b", state: .enqueued, attempt: 1)
        let first = JobUpdate(id: "0", state: .enqueued, attempt: 1)
        let lateEnqueue = JobUpdate(id: "a", state: .enqueued, attempt: 1, at: Date(timeIntervalSince1970: 4))
        var out = JobUpdate.coalesce([run, other, progress, first, done, lateEnqueue])
        XCTAssertEqual(out.map(\.id), ["0", "a", "b"], "sorted by id: the order commits lock rows in")
        out.removeFirst()
        XCTAssertEqual(out[0].state, .succeeded)
        XCTAssertEqual(out[0].worker, "w")
        XCTAssertEqual(out[0].startedAt, Date(timeIntervalSince1970: 1))
        XCTAssertEqual(out[0].progress, 0.5)
        XCTAssertEqual(out[0].result, "1")
    }

    /// The SQL upsert names the columns some row sets (and those every row has), no more; a column one row
    /// sets is bound `NULL` for the others, and a row setting everything gets all 19.
    func testUpsertNamesOnlyTheColumnsItsRowsSet() {
        let at = Date(timeIntervalSince1970: 1_795_000_000)
        var a = JobUpdate(id: "a", state: .succeeded, attempt: 1, at: at)
        a.name = "n"
        let b = JobUpdate(id: "b", state: .running, attempt: 2, at: at)
        let (sql, binds) = StoreStatements.upsert([a, b])
        XCTAssertTrue(sql.hasPrefix("INSERT INTO warren_jobs (id, name, state, state_rank, attempt, updated_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?)\n"), sql)
        let ms = SQLValue.int(1_795_000_000_000)
        XCTAssertEqual(binds, [.text("a"), .text("n"), .text("succeeded"), .int(JobState.succeeded.rank), .int(1), ms, .null,
                               .text("b"), .null, .text("running"), .int(JobState.running.rank), .int(2), ms, ms])
        var full = JobUpdate(id: "c", state: .running, attempt: 1, at: at)
        (full.name, full.queue, full.worker, full.progressMessage, full.result, full.lastError, full.deadReason, full.uniqueKey) =
            ("n", "q", "w", "m", "r", "e", "d", "k")
        (full.enqueuedAt, full.runAt, full.startedAt, full.finishedAt, full.progress) = (at, at, at, at, 0.5)
        let wide = StoreStatements.upsert([full])
        XCTAssertEqual(wide.binds.count, StoreSchema.updateColumns.count)
        XCTAssertTrue(wide.sql.hasPrefix("INSERT INTO warren_jobs (\(StoreSchema.updateColumns.joined(separator: ", "))) VALUES"))
    }

    /// PostgreSQL's column arrays in its binary format (array_recv): header (dimensions, has-nulls flag,
    /// element OID, length, lower bound), then each element as its length (-1: NULL) and bytes.
    func testPostgresColumnArraysAreBinary() {
        let at = Date(timeIntervalSince1970: 1_795_000_000.123)
        var a = JobUpdate(id: "job-\"1\"\\é", state: .succeeded, attempt: 3, at: at)
        a.name = "record"
        a.progress = 0.5
        var b = JobUpdate(id: "job-2", state: .running, attempt: -1, at: at)
        b.name = nil
        let binds = PostgresColumns.binds([a, b])
        XCTAssertEqual(binds.count, StoreSchema.updateColumns.count)
        func column(_ name: String) -> (oid: UInt32, bytes: [UInt8]) {
            guard case .binary(let oid, let bytes) = binds[StoreSchema.updateColumns.firstIndex(of: name)!] else {
                XCTFail("\(name) not binary"); return (0, [])
            }
            return (oid, bytes)
        }
        func words(_ w: [UInt32]) -> [UInt8] { w.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } } }
        func int8(_ i: Int64) -> [UInt8] { words([8, UInt32(truncatingIfNeeded: UInt64(bitPattern: i) >> 32), UInt32(truncatingIfNeeded: i)]) }
        // Text, no NULL: the UTF-8 bytes as they are, quotes and backslashes unescaped.
        let id = Array("job-\"1\"\\é".utf8)
        XCTAssertEqual(column("id").oid, 1009)
        XCTAssertEqual(column("id").bytes, words([1, 0, 25, 2, 1, UInt32(id.count)]) + id + words([5]) + Array("job-2".utf8))
        // A NULL sets the flag and is length -1.
        XCTAssertEqual(column("name").bytes, words([1, 1, 25, 2, 1, 6]) + Array("record".utf8) + words([UInt32.max]))
        // Integers: 8 bytes big-endian, negatives two's complement; times in milliseconds.
        XCTAssertEqual(column("attempt").oid, 1016)
        XCTAssertEqual(column("attempt").bytes, words([1, 0, 20, 2, 1]) + int8(3) + int8(-1))
        XCTAssertEqual(column("updated_at").bytes, words([1, 0, 20, 2, 1]) + int8(1_795_000_000_123) + int8(1_795_000_000_123))
        XCTAssertEqual(column("heartbeat_at").bytes, words([1, 1, 20, 2, 1, UInt32.max]) + int8(1_795_000_000_123), "running rows only")
        // Doubles: the IEEE 754 bits, big-endian.
        XCTAssertEqual(column("progress").oid, 1022)
        XCTAssertEqual(column("progress").bytes, words([1, 1, 701, 2, 1, 8, 0x3FE0_0000, 0, UInt32.max]))
    }

    func testProgressIsWrittenFirstLastAndThenOncePerInterval() {
        let t = ContinuousClock.now
        let every = Duration.milliseconds(250)
        XCTAssertTrue(JobTracker.progressDue(fraction: 0.1, last: nil, now: t, interval: every), "the attempt's first")
        XCTAssertFalse(JobTracker.progressDue(fraction: 0.2, last: t, now: t + .milliseconds(249), interval: every))
        XCTAssertTrue(JobTracker.progressDue(fraction: 0.3, last: t, now: t + every, interval: every))
        XCTAssertTrue(JobTracker.progressDue(fraction: 1, last: t, now: t + .milliseconds(1), interval: every), "the final one")
    }

    func testUniqueKeyReleaseRule() {
        let failure = FailureInfo(type: "E", message: "m")
        XCTAssertTrue(UniqueJob.releases(.success, on: .ack))
        XCTAssertTrue(UniqueJob.releases(.success, on: .deadLetter(.exhausted, failure: failure)), "a dead job frees its key")
        XCTAssertTrue(UniqueJob.releases(.start, on: .deadLetter(.nonRetryable, failure: failure)))
        XCTAssertFalse(UniqueJob.releases(.success, on: .retry(attempt: 2, delay: .seconds(1), failure: failure)))
        XCTAssertFalse(UniqueJob.releases(.success, on: .leave))
        XCTAssertThrowsError(try UniqueJob.key("", for: .seconds(1)).validate())
        XCTAssertThrowsError(try UniqueJob.key("k", for: .zero).validate())
    }

    func testTrackerWritesPerSettlement() {
        func settle(_ d: Disposition, result: [UInt8]? = nil) -> JobUpdate? {
            JobTracker.update(for: JobSettlement(jobID: "j", jobName: "n", queue: "q", attempt: 2, disposition: d,
                                                 result: result.map { JobResult(json: $0) }, headers: [:]),
                              at: Date(), maxResultBytes: 8)
        }
        let failure = FailureInfo(type: "Boom", message: "bad")
        XCTAssertEqual(settle(.ack, result: Array("[1,2]".utf8))?.result, "[1,2]")
        XCTAssertEqual(settle(.ack)?.state, .succeeded)
        XCTAssertTrue(settle(.ack, result: Array("[1,2,3,4,5]".utf8))?.result?.contains("warren-result-omitted") == true, "size-limited")
        XCTAssertEqual(settle(.retry(attempt: 3, delay: .seconds(1), failure: failure))?.state, .retrying)
        XCTAssertEqual(settle(.retry(attempt: 3, delay: .seconds(1), failure: failure))?.lastError, "Boom: bad")
        let dead = settle(.deadLetter(.exhausted, failure: failure))
        XCTAssertEqual(dead?.state, .dead)
        XCTAssertEqual(dead?.deadReason, "exhausted")
        XCTAssertEqual(settle(.defer(delay: .seconds(5)))?.state, .scheduled)
        XCTAssertNil(settle(.leave), "left to the broker: nothing written")
    }

    func testTrackedEnqueueCarriesKeyInHeadersAndPlainProducerRefusesUnique() throws {
        var options = EnqueueOptions(queue: "q", delay: .seconds(5))
        options.unique = .key("invoice-42", for: .seconds(600), until: .start)
        let (plain, row, unique) = try TrackedProducer.prepare(JobRequest(name: "n", arguments: [], options: options), at: Date())
        XCTAssertNil(plain.options.unique)
        XCTAssertEqual(plain.options.jobID, row.id)
        XCTAssertEqual(row.state, .scheduled)
        XCTAssertEqual(unique?.key, "invoice-42")
        XCTAssertEqual(UniqueJob.held(in: plain.options.headers)?.key, "invoice-42")
        XCTAssertEqual(UniqueJob.held(in: plain.options.headers)?.release, .start)
    }

    func testStoreURLs() throws {
        XCTAssertEqual(try StoreURL(parsing: "sqlite:/tmp/x.db"), .sqlite(path: "/tmp/x.db"))
        let pg = try StoreURL(parsing: "postgres://app:s3cr%40t@127.0.0.1:55432/jobs")
        XCTAssertEqual(pg, .postgres(host: "127.0.0.1", port: 55432, user: "app", password: "s3cr@t", database: "jobs"))
        XCTAssertFalse(pg.description.contains("s3cr"), "no password in what is logged")
        XCTAssertThrowsError(try StoreURL(parsing: "mysql://app:hunter2@h/db")) { error in
            XCTAssertFalse("\(error)".contains("hunter2"))
        }
        XCTAssertThrowsError(try StoreURL(parsing: "postgres://app@h"))
        XCTAssertNil(try StoreURL.fromEnvironment([:]))
        let missing = StoreError.notConfigured("a unique job")
        XCTAssertEqual(missing.code, .notConfigured)
        XCTAssertTrue(missing.message.contains("WARREN_STORE"))
    }
}
