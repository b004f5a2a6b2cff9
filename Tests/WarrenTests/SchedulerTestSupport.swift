import Foundation
import Synchronization
import Warren
import WarrenAMQP
import XCTest
import WarrenTestSupport

/// Records what a scheduler replica did, for assertions.
final class SchedulerRecorder: SchedulerObserver {
    private let state = Mutex<(fires: [FireRecord], leading: Bool, everLed: Bool, losses: Int)>(([], false, false, 0))

    func leadershipChanged(leading: Bool) {
        state.withLock {
            $0.leading = leading
            if leading { $0.everLed = true } else { $0.losses += 1 }
        }
    }

    func fired(_ fire: FireRecord) { state.withLock { $0.fires.append(fire) } }

    var fires: [FireRecord] { state.withLock { $0.fires } }
    var isLeading: Bool { state.withLock { $0.leading } }
    var everLed: Bool { state.withLock { $0.everLed } }
    /// How many times this replica stopped leading.
    var losses: Int { state.withLock { $0.losses } }
}

/// A scheduler replica running in a task; `stop()` cancels it like a shutdown would.
struct RunningScheduler {
    let service: SchedulerService
    let recorder: SchedulerRecorder
    let task: Task<Void, any Error>

    static func start(_ schedules: [ScheduleDefinition], group: String, lateFireWindow: Duration = .seconds(30),
                      connectionName: String = "warren-scheduler-tests") throws -> RunningScheduler {
        let recorder = SchedulerRecorder()
        var broker = try AMQPConfiguration(url: JobsBroker.url)
        broker.connectionName = connectionName
        let service = try SchedulerService(
            schedules: schedules, broker: broker,
            configuration: SchedulerConfiguration(group: group, lockRetryInterval: .milliseconds(300),
                                                  lateFireWindow: lateFireWindow, reconnectDelay: .milliseconds(300)),
            observer: recorder, logger: quietLogger("test.scheduler"))
        return RunningScheduler(service: service, recorder: recorder, task: Task { try await service.run() })
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// A schedule firing every whole second into `queue`.
func everySecond(_ name: String, queue: String, missed: MissedFirePolicy = .fireLatest,
                 priority: Int? = nil, expiry: Duration? = nil) throws -> ScheduleDefinition {
    try ScheduleDefinition(name: name, trigger: .interval(every: .seconds(1), anchor: nil), job: "noop", arguments: #"{"n":1}"#,
                           queue: queue, priority: priority, expiry: expiry, missedFires: missed)
}

/// Deletes a schedule's work queue (with its dead-letter queue) and the group's state queues.
func cleanUpScheduler(queue: String, schedules: [String], group: String) async {
    guard let connection = try? await JobsBroker.connect() else { return }
    await JobsBroker.cleanUp(Topology.Queue(queue), on: connection)
    if let ch = try? await connection.openChannel() {
        let config = SchedulerConfiguration(group: group)
        for s in schedules { _ = try? await ch.deleteQueue(config.stateQueue(for: s)) }
        await ch.close()
    }
    await connection.close()
}

/// Drains `queue` and checks that every fire second from the first to the last was published exactly once
/// (by message id, and by the `warren-fire-time` header). Returns how many messages it held.
@discardableResult
func assertEachSecondFiredOnce(_ queue: String, file: StaticString = #filePath, line: UInt = #line) async throws -> Int {
    let connection = try await JobsBroker.connect()
    let ch = try await connection.openChannel()
    let messages = try await drain(queue, on: ch)
    await connection.close()
    let ids = messages.map { $0.properties.messageID ?? "" }
    let seconds = messages.compactMap { $0.properties.headers?[WireFormat.Header.fireTime]?.intValue }.map { $0 / 1000 }.sorted()
    XCTAssertEqual(Set(ids).count, ids.count, "a fire id was published twice: \(ids)", file: file, line: line)
    XCTAssertEqual(seconds.count, ids.count, "a message without its fire time", file: file, line: line)
    if let first = seconds.first, let last = seconds.last {
        XCTAssertEqual(seconds, Array(first...last), "a fire was skipped or repeated: \(seconds)", file: file, line: line)
    } else {
        XCTFail("no fire was published", file: file, line: line)
    }
    return ids.count
}
