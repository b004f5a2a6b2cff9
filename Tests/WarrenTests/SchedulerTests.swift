import Foundation
import WarrenAMQP
import XCTest
@testable import Warren

/// The HA scheduler: fire planning (pure), then election, state and fires against the real broker.
final class SchedulerTests: XCTestCase {
    private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    // MARK: catch-up planning

    func testRecentMissedFiresAreAllPublishedWhateverThePolicy() throws {
        let s = try everySecond("s", queue: "q", missed: .skip)
        let fires = FirePlan.catchUp(s, lastFired: t0, now: t0 + 5.5, lateWindow: 30)
        XCTAssertEqual(fires, (1...5).map { t0 + Double($0) })
    }

    func testOlderMissedFiresFollowThePolicy() throws {
        let now = t0 + 5.5
        XCTAssertEqual(FirePlan.catchUp(try everySecond("s", queue: "q", missed: .skip), lastFired: t0, now: now, lateWindow: 0), [])
        XCTAssertEqual(FirePlan.catchUp(try everySecond("s", queue: "q", missed: .fireLatest), lastFired: t0, now: now, lateWindow: 0),
                       [t0 + 5])
        XCTAssertEqual(FirePlan.catchUp(try everySecond("s", queue: "q", missed: .fireAll(within: .milliseconds(2600))), lastFired: t0, now: now,
                                        lateWindow: 0), [t0 + 3, t0 + 4, t0 + 5])
        // Within the late window, fireLatest adds nothing older: the recent fires are the latest.
        XCTAssertEqual(FirePlan.catchUp(try everySecond("s", queue: "q", missed: .fireLatest), lastFired: t0, now: now, lateWindow: 1.2),
                       [t0 + 5])
        XCTAssertEqual(FirePlan.catchUp(try everySecond("s", queue: "q", missed: .skip), lastFired: t0, now: now, lateWindow: 2.2),
                       [t0 + 4, t0 + 5])
    }

    func testExpiredAndUnrecordedFiresAreNotCaughtUp() throws {
        let expiring = try everySecond("s", queue: "q", missed: .fireAll(within: .seconds(60)), expiry: .milliseconds(2200))
        XCTAssertEqual(FirePlan.catchUp(expiring, lastFired: t0, now: t0 + 5.5, lateWindow: 0), [t0 + 4, t0 + 5])
        XCTAssertEqual(FirePlan.catchUp(try everySecond("s", queue: "q"), lastFired: nil, now: t0 + 5.5, lateWindow: 30), [])
    }

    func testJitterDelaysThePublishButNotTheFire() throws {
        let s = try ScheduleDefinition(name: "j", trigger: .interval(every: .seconds(10), anchor: nil), job: "noop", jitter: .seconds(3))
        for _ in 0..<20 {
            let entry = try XCTUnwrap(FirePlan.next(s, index: 0, after: t0 + 1))
            XCTAssertEqual(entry.fire, t0 + 10)
            XCTAssertGreaterThanOrEqual(entry.publishAt, entry.fire)
            XCTAssertLessThanOrEqual(entry.publishAt, entry.fire + 3)
        }
    }

    // MARK: against the broker

    func testOnlyTheLockHolderPublishesAndAFollowerTakesOver() async throws {
        let group = JobsBroker.uniqueQueue("sched-lock")
        let queue = JobsBroker.uniqueQueue("sched-lock-q")
        let schedules = [try everySecond("tick", queue: queue)]
        addTeardownBlock { await cleanUpScheduler(queue: queue, schedules: ["tick"], group: group) }

        let a = try RunningScheduler.start(schedules, group: group)
        try await eventually(timeout: 20) { a.recorder.isLeading }
        let b = try RunningScheduler.start(schedules, group: group)
        try await eventually(timeout: 20) { a.recorder.fires.count >= 3 }
        XCTAssertFalse(b.recorder.everLed, "a second replica must not lead while the first holds the lock")
        XCTAssertTrue(b.recorder.fires.isEmpty, "a follower must not publish")

        await a.stop()
        try await eventually(timeout: 20) { b.recorder.fires.count >= 2 }
        await b.stop()

        let published = try await assertEachSecondFiredOnce(queue)
        XCTAssertEqual(published, a.recorder.fires.count + b.recorder.fires.count)
    }

    func testALeaderWhoseConnectionIsClosedStopsAndCompetesAgain() async throws {
        let group = JobsBroker.uniqueQueue("sched-close")
        let queue = JobsBroker.uniqueQueue("sched-close-q")
        let schedules = [try everySecond("tick", queue: queue)]
        addTeardownBlock { await cleanUpScheduler(queue: queue, schedules: ["tick"], group: group) }

        let a = try RunningScheduler.start(schedules, group: group, connectionName: "\(group)-a")
        try await eventually(timeout: 20) { a.recorder.isLeading }
        let b = try RunningScheduler.start(schedules, group: group, connectionName: "\(group)-b")
        try await eventually(timeout: 20) { a.recorder.fires.count >= 2 }
        XCTAssertEqual(try JobsBroker.closeConnections(named: "\(group)-a"), 1)
        try await eventually(timeout: 20) { a.recorder.losses >= 1 }
        let firesBefore = a.recorder.fires.count + b.recorder.fires.count
        // Whoever wins the lock next (b, or a on its new connection) goes on firing.
        try await eventually(timeout: 20) { a.recorder.fires.count + b.recorder.fires.count >= firesBefore + 2 }
        XCTAssertFalse(a.recorder.isLeading && b.recorder.isLeading, "two leaders at once")
        await a.stop()
        await b.stop()

        try await assertEachSecondFiredOnce(queue)
    }

    func testStateRecordRoundTripsThroughTheBroker() async throws {
        let group = JobsBroker.uniqueQueue("sched-state")
        let queue = JobsBroker.uniqueQueue("sched-state-q")
        addTeardownBlock { await cleanUpScheduler(queue: queue, schedules: ["nightly"], group: group) }
        let connection = try await JobsBroker.connect()
        let topology = Topology(queues: [Topology.Queue(queue)])
        try await declare(topology, on: connection)
        let ledger = FireLedger(configuration: SchedulerConfiguration(group: group), mode: .classic)
        let producer = try await JobProducer(connection: connection, topology: topology)
        try await ledger.declare([try everySecond("nightly", queue: queue)], on: producer.channel)

        let none = try await ledger.lastFired("nightly", on: producer.channel)
        XCTAssertNil(none)
        for fire in [t0, t0 + 86_400] {
            let options = EnqueueOptions(queue: queue, jobID: "nightly@\(fire)", headers: ledger.headers(schedule: "nightly", fire: fire))
            let (_, message) = try producer.build(JobRequest(name: "noop", arguments: Array("{}".utf8), options: options))
            let outcome = try await producer.channel.publish(message)
            XCTAssertEqual(outcome, .acked)
        }
        for _ in 0..<2 {  // reading gives the record back
            let last = try await ledger.lastFired("nightly", on: producer.channel)
            XCTAssertEqual(last, t0 + 86_400)
        }
        // The requeue is asynchronous in the broker: wait for the record to be ready again.
        let stateQueue = ledger.configuration.stateQueue(for: "nightly")
        try await eventually(timeout: 5) { try await producer.channel.inspectQueue(stateQueue).messageCount == 1 }
        let state = try await producer.channel.inspectQueue(stateQueue)
        XCTAssertEqual(state.messageCount, 1, "the state queue keeps only the last fire")
        let work = try await producer.channel.inspectQueue(queue)
        XCTAssertEqual(work.messageCount, 2, "each fire is one job in the work queue")
        await connection.close()
    }

    func testFiresMissedWhileNoLeaderRanAreCaughtUp() async throws {
        let group = JobsBroker.uniqueQueue("sched-catchup")
        let queue = JobsBroker.uniqueQueue("sched-catchup-q")
        let schedules = [try everySecond("tick", queue: queue, missed: .skip)]
        addTeardownBlock { await cleanUpScheduler(queue: queue, schedules: ["tick"], group: group) }

        let a = try RunningScheduler.start(schedules, group: group)
        try await eventually(timeout: 20) { a.recorder.fires.count >= 2 }
        await a.stop()
        try await Task.sleep(for: .milliseconds(2500))
        let b = try RunningScheduler.start(schedules, group: group)
        try await eventually(timeout: 20) { b.recorder.fires.contains { !$0.caughtUp } }
        await b.stop()

        let caughtUp = b.recorder.fires.filter(\.caughtUp)
        XCTAssertGreaterThanOrEqual(caughtUp.count, 2, "fires of the 2.5 s without a leader are published late")
        try await assertEachSecondFiredOnce(queue)
    }

    func testMissedFirePolicyAppliesAfterDowntime() async throws {
        let group = JobsBroker.uniqueQueue("sched-policy")
        let queue = JobsBroker.uniqueQueue("sched-policy-q")
        let schedules = [try everySecond("tick", queue: queue, missed: .fireLatest)]
        addTeardownBlock { await cleanUpScheduler(queue: queue, schedules: ["tick"], group: group) }

        let a = try RunningScheduler.start(schedules, group: group, lateFireWindow: .zero)
        try await eventually(timeout: 20) { a.recorder.fires.count >= 1 }
        await a.stop()
        let lastOfA = try XCTUnwrap(a.recorder.fires.map(\.fireTime).max())
        try await Task.sleep(for: .milliseconds(3200))
        let b = try RunningScheduler.start(schedules, group: group, lateFireWindow: .zero)
        try await eventually(timeout: 20) { b.recorder.isLeading && !b.recorder.fires.isEmpty }
        await b.stop()

        let caughtUp = b.recorder.fires.filter(\.caughtUp)
        XCTAssertEqual(caughtUp.count, 1, "fireLatest publishes one missed fire: \(caughtUp.map(\.fireID))")
        if let fire = caughtUp.first {
            XCTAssertGreaterThanOrEqual(fire.fireTime.timeIntervalSince(lastOfA), 3, "the latest missed fire, not the first")
            XCTAssertEqual(fire.fireID, schedules[0].fireID(for: fire.fireTime))
        }
    }

    func testAFireCarriesItsIdHeadersAndExpiry() async throws {
        let group = JobsBroker.uniqueQueue("sched-headers")
        let queue = JobsBroker.uniqueQueue("sched-headers-q")
        let schedule = try everySecond("report", queue: queue, priority: 3, expiry: .milliseconds(60000))
        addTeardownBlock { await cleanUpScheduler(queue: queue, schedules: ["report"], group: group) }

        let a = try RunningScheduler.start([schedule], group: group)
        try await eventually(timeout: 20) { !a.recorder.fires.isEmpty }
        await a.stop()
        let fire = try XCTUnwrap(a.recorder.fires.first)

        let connection = try await JobsBroker.connect()
        let ch = try await connection.openChannel()
        let message = try await XCTUnwrapAsync(try await ch.get(queue: queue, noAck: true))
        await connection.close()
        let headers = message.properties.headers ?? [:]
        XCTAssertEqual(message.properties.messageID, schedule.fireID(for: fire.fireTime))
        XCTAssertEqual(message.properties.messageID, fire.fireID)
        XCTAssertEqual(message.properties.priority, 3)
        XCTAssertEqual(message.properties.persistent, true)
        XCTAssertEqual(message.properties.type, "noop", "the job name travels in `type`")
        XCTAssertNil(headers[WireFormat.Header.job])
        XCTAssertEqual(headers[WireFormat.Header.schedule]?.stringValue, "report")
        XCTAssertEqual(headers[WireFormat.Header.fireTime]?.intValue, fire.fireTime.millisecondsSince1970)
        XCTAssertEqual(headers[WireFormat.Header.expiresAt]?.intValue, fire.fireTime.millisecondsSince1970 + 60_000)
        XCTAssertNil(headers["BCC"], "the broker strips the BCC header")
        XCTAssertEqual(String(decoding: message.body, as: UTF8.self), #"{"n":1}"#)
        let envelope = try JobEnvelope(properties: message.properties, body: message.body)
        XCTAssertEqual(envelope.expiresAt, Date(millisecondsSince1970: fire.fireTime.millisecondsSince1970 + 60_000))
    }
}

/// `XCTUnwrap` for an async expression.
private func XCTUnwrapAsync<T>(_ value: @autoclosure () async throws -> T?, file: StaticString = #filePath,
                               line: UInt = #line) async throws -> T {
    let v = try await value()
    return try XCTUnwrap(v, file: file, line: line)
}
