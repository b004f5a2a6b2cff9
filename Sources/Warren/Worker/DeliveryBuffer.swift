import DequeModule
import Synchronization
import WarrenAMQP

/// Deliveries received but not yet started, per source queue, and the choice of which runs next:
/// lanes of a queue by ``LaneSelection``, queues in turn. Bounded by the consumers' prefetch.
/// The worker's runners (one per concurrent job) take items with ``next()`` and report ``finished()``.
final class DeliveryBuffer: Sendable {
    struct Source: Sendable {
        /// The queue consumed (a lane queue for laned queues).
        let queue: String
        /// The work queue it belongs to (dead letters go to its DLQ).
        let baseQueue: String
        /// Lane number (0 lowest).
        let lane: Int
    }

    struct Item: Sendable {
        let delivery: AMQPDelivery
        let source: Source
        /// Parked for its limits across workers and let through (``park()``, ``pushLeased(_:)``).
        var admitted = false
        /// The global-limit lease it holds, if its job has a ``GlobalLimit``.
        var lease: Lease?

        init(delivery: AMQPDelivery, source: Source) {
            self.delivery = delivery
            self.source = source
        }
    }

    private struct State {
        var buffers: [Deque<AMQPDelivery>]
        var open: Int
        var stopped = false
        /// Runners waiting for a delivery.
        var waiters: Deque<CheckedContinuation<Item?, Never>> = []
        /// Waiting for the end (stopped, or every source ended and drained).
        var endWaiters: [CheckedContinuation<Void, Never>] = []
        /// Items handed out and not yet ``finished()``.
        var running = 0
        var turn = 0
        /// Items waiting for a global-limit lease, off any runner.
        var parked = 0
        /// Parked items that got their lease: handed out before any new delivery.
        var leased: Deque<Item> = []

        var ended: Bool { stopped || (open == 0 && buffers.allSatisfy(\.isEmpty) && parked == 0 && leased.isEmpty) }

        /// Who to wake now that it ended: every waiting runner (with nil) and every end waiter.
        mutating func takeWaitersIfEnded() -> ([CheckedContinuation<Item?, Never>], [CheckedContinuation<Void, Never>]) {
            guard ended else { return ([], []) }
            defer { waiters.removeAll(); endWaiters.removeAll() }
            return (Array(waiters), endWaiters)
        }
    }

    let sources: [Source]
    private let selection: LaneSelection
    private let state: Mutex<State>

    init(sources: [Source], selection: LaneSelection) {
        self.sources = sources
        self.selection = selection
        state = Mutex(State(buffers: Array(repeating: [], count: sources.count), open: sources.count))
    }

    func push(_ delivery: AMQPDelivery, source index: Int) {
        let handoff = state.withLock { s -> (CheckedContinuation<Item?, Never>, Item)? in
            if !s.stopped, let w = s.waiters.popFirst() {
                s.running += 1
                return (w, Item(delivery: delivery, source: sources[index]))
            }
            s.buffers[index].append(delivery)
            return nil
        }
        if let (w, item) = handoff { w.resume(returning: item) }
    }

    /// A handed-out item is to leave its runner to wait for a lease (the runner then reports ``finished()``).
    func park() { state.withLock { $0.parked += 1 } }

    /// A parked item got its lease: it runs next, before new deliveries.
    func pushLeased(_ item: Item) {
        let handoff = state.withLock { s -> CheckedContinuation<Item?, Never>? in
            s.parked -= 1
            if !s.stopped, let w = s.waiters.popFirst() {
                s.running += 1
                return w
            }
            s.leased.append(item)
            return nil
        }
        handoff?.resume(returning: item)
    }

    /// A parked item gave up waiting (shutdown or a broker error): its delivery is left to the broker.
    func unpark() {
        let (runners, enders) = state.withLock { s in
            s.parked -= 1
            return s.takeWaitersIfEnded()
        }
        wake(runners, enders)
    }

    /// A source's consumer ended.
    func finish(source index: Int) {
        let (runners, enders) = state.withLock { s in
            s.open -= 1
            return s.takeWaitersIfEnded()
        }
        wake(runners, enders)
    }

    /// Stops handing out deliveries (shutdown): what is buffered stays unacked for the broker to redeliver.
    func stop() {
        let (runners, enders) = state.withLock { s in
            s.stopped = true
            return s.takeWaitersIfEnded()
        }
        wake(runners, enders)
    }

    private func wake(_ runners: [CheckedContinuation<Item?, Never>], _ enders: [CheckedContinuation<Void, Never>]) {
        for r in runners { r.resume(returning: nil) }
        for e in enders { e.resume() }
    }

    /// The next delivery to run, waiting for one; `nil` once stopped or every source has ended and drained.
    /// Any number of runners may wait; each item handed out counts as running until ``finished()``.
    func next() async -> Item? {
        await withCheckedContinuation { (c: CheckedContinuation<Item?, Never>) in
            let (ready, enders) = state.withLock { s -> (Item??, [CheckedContinuation<Void, Never>]) in
                if s.stopped { return (.some(nil), []) }
                if let item = pick(&s) {
                    s.running += 1
                    return (.some(item), s.takeWaitersIfEnded().1)
                }
                if s.open == 0 && s.parked == 0 { return (.some(nil), []) }
                s.waiters.append(c)
                return (nil, [])
            }
            for e in enders { e.resume() }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// A handed-out item's job is over (settled or abandoned).
    func finished() { state.withLock { $0.running -= 1 } }

    /// Items handed out and not yet finished.
    var running: Int { state.withLock { $0.running } }

    /// Returns once stopped, or once every source ended and what they delivered was handed out.
    func waitUntilEnded() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.ended { return true }
                s.endWaiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Waits until no handed-out item is running, or `timeout`; returns whether it became idle.
    func waitUntilIdle(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while running > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return running == 0
    }

    private func pick(_ s: inout State) -> Item? {
        if let item = s.leased.popFirst() { return item }
        let nonEmpty = s.buffers.indices.filter { !s.buffers[$0].isEmpty }
        guard !nonEmpty.isEmpty else { return nil }
        let chosen: Int
        switch selection {
        case .strict:
            // Highest lane first; among equals, take turns.
            let top = nonEmpty.map { sources[$0].lane }.max()!
            let candidates = nonEmpty.filter { sources[$0].lane == top }
            chosen = candidates[s.turn % candidates.count]
        case .weighted(let weights):
            let w = nonEmpty.map { i in max(1, sources[i].lane < weights.count ? weights[sources[i].lane] : sources[i].lane + 1) }
            var r = Int.random(in: 0..<w.reduce(0, +))
            var k = 0
            while r >= w[k] { r -= w[k]; k += 1 }
            chosen = nonEmpty[k]
        }
        s.turn &+= 1
        return Item(delivery: s.buffers[chosen].removeFirst(), source: sources[chosen])
    }
}
