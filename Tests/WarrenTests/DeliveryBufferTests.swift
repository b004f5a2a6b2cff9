import Synchronization
@testable import Warren
@testable import WarrenAMQP
import XCTest

/// The worker's delivery buffer without a broker: runners take buffered deliveries in order and exactly once,
/// a burst reaches every waiting runner when jobs block (the woken runner passes the wake-up on), the end
/// wakes every waiting runner, and short jobs leave a small burst to the runner already busy.
final class DeliveryBufferTests: XCTestCase {
    private func delivery(_ tag: UInt64) -> AMQPDelivery {
        AMQPDelivery(consumerTag: "c", deliveryTag: tag, redelivered: false, exchange: "", routingKey: "q",
                     properties: BasicProperties(), body: [], messageCount: nil, settler: nil)
    }

    private func buffer() -> DeliveryBuffer {
        DeliveryBuffer(sources: [.init(queue: "q", baseQueue: "q", lane: 0)], selection: .strict)
    }

    func testBufferedDeliveriesAreTakenInOrderExactlyOnce() async {
        let buffer = buffer()
        for tag in 1...200 { buffer.push(delivery(UInt64(tag)), source: 0) }
        buffer.finish(source: 0)
        let taken = Locked<[UInt64]>([])
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while let item = await buffer.next() {
                        taken.value.withLock { $0.append(item.delivery.deliveryTag) }
                        buffer.finished()
                    }
                }
            }
        }
        let tags = taken.value.withLock { $0 }
        XCTAssertEqual(tags.count, 200)
        XCTAssertEqual(Set(tags).count, 200)
        XCTAssertEqual(buffer.running, 0)
    }

    /// Runners whose jobs block never come back for more: every one of them must still be handed a delivery
    /// of a burst, although a push wakes only one runner at a time.
    func testBurstReachesEveryWaitingRunnerWhenJobsBlock() async throws {
        let buffer = buffer()
        let started = Locked(0)
        let release = Gate()
        let runners = (0..<3).map { _ in
            Task {
                guard await buffer.next() != nil else { return }
                started.value.withLock { $0 += 1 }
                await release.wait()
                buffer.finished()
            }
        }
        try await waitFor { buffer.waitingRunners == 3 }
        for tag in 1...3 { buffer.push(delivery(UInt64(tag)), source: 0) }
        try await waitFor { started.value.withLock { $0 } == 3 }
        release.open()
        buffer.stop()
        for r in runners { await r.value }
    }

    /// The source ends while deliveries are still buffered and runners wait: once the last is taken, every
    /// waiting runner is told the end.
    func testEndWakesEveryWaitingRunner() async throws {
        let buffer = buffer()
        let taken = Locked(0)
        let runners = (0..<3).map { _ in
            Task {
                while await buffer.next() != nil {
                    taken.value.withLock { $0 += 1 }
                    buffer.finished()
                }
            }
        }
        try await waitFor { buffer.waitingRunners == 3 }
        for tag in 1...5 { buffer.push(delivery(UInt64(tag)), source: 0) }
        buffer.finish(source: 0)
        for r in runners { await r.value }
        await buffer.waitUntilEnded()
        XCTAssertEqual(taken.value.withLock { $0 }, 5)
    }

    /// Short jobs: while a runner is busy, a small burst is left to it (no other runner woken); a backlog
    /// over the budget wakes one; and a kick wakes one when nothing was taken since the previous kick (the
    /// busy runner is held up by a long job).
    func testASmallBurstIsLeftToTheBusyRunnerWhenJobsAreShort() async throws {
        let buffer = buffer()
        for _ in 0..<8 { buffer.noteRunTime(.microseconds(5)) }
        XCTAssertEqual(buffer.typicalRunTime, .microseconds(5))
        buffer.push(delivery(1), source: 0)
        let busy = await buffer.next()  // this test is the busy runner from here on
        XCTAssertNotNil(busy)
        let runners = (0..<2).map { _ in
            Task {
                var returning = false
                while await buffer.next(returning: returning) != nil {
                    returning = true
                    buffer.finished()
                }
            }
        }
        try await waitFor { buffer.waitingRunners == 2 }
        for tag in 2...6 { buffer.push(delivery(UInt64(tag)), source: 0) }
        XCTAssertEqual(buffer.waitingRunners, 2, "5 jobs of 5 us are left to the busy runner")
        XCTAssertEqual(buffer.bufferedCount, 5)
        buffer.kickIfStalled()  // one took since the start: not stalled
        XCTAssertEqual(buffer.waitingRunners, 2)
        XCTAssertEqual(buffer.bufferedCount, 5)
        buffer.kickIfStalled()  // nothing taken since the previous kick: a runner is woken for the backlog
        try await waitFor { buffer.bufferedCount == 0 && buffer.waitingRunners == 2 }  // it took the 5 and waits again
        for tag in 7...(7 + 250) { buffer.push(delivery(UInt64(tag)), source: 0) }
        try await waitFor { buffer.waitingRunners == 2 && buffer.running == 1 }  // over 1 ms of work: woken, drained
        buffer.stop()
        for r in runners { await r.value }
    }

    /// Before any run time is known (or with long jobs), every push with a runner waiting wakes one.
    func testWithoutAKnownShortRunTimeAPushWakesAWaitingRunner() async throws {
        for typical in [nil, Duration.milliseconds(5)] {
            let buffer = buffer()
            if let typical { buffer.noteRunTime(typical) }
            buffer.push(delivery(1), source: 0)
            let busy = await buffer.next()
            XCTAssertNotNil(busy)
            let runner = Task { _ = await buffer.next() }
            try await waitFor { buffer.waitingRunners == 1 }
            buffer.push(delivery(2), source: 0)
            XCTAssertEqual(buffer.waitingRunners, 0, "typical run time \(String(describing: typical))")
            await runner.value
            buffer.stop()
        }
    }

    private func waitFor(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { return XCTFail("condition not met within 10 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// A value behind a lock, shareable between tasks.
final class Locked<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}

/// Blocks tasks until opened.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { s in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }
}
