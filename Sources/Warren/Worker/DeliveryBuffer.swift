import DequeModule
import Synchronization
import WarrenAMQP

/// Deliveries received but not yet started, per source queue, and the choice of which runs next:
/// lanes of a queue by ``LaneSelection``, queues in turn. Bounded by the consumers' prefetch.
/// The worker's runners (one per concurrent job) take items with ``next(returning:)`` and report ``finished()``.
///
/// Waking runners: a runner that finds the buffer empty waits, and a delivery wakes one waiting runner. When
/// jobs are short (``typicalRunTime`` under ``shortJob``) and a runner is busy with one, what is buffered is
/// left to it as long as it is under ``backlogBudget`` of work: that runner takes it as soon as its job is
/// done, without a wake-up, where waking another would move the burst onto a second thread for no gain.
/// (A worker that the broker feeds slower than it runs jobs gets its deliveries in small bursts; woken for
/// each, both pool threads parked and woke per burst.) If the busy runner's job turns out long, the
/// deliveries behind it wait at most until the next ``kickIfStalled()`` (the worker's time-limit tick), which
/// wakes a runner when none has taken anything since the last one.
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
        var waiters: Deque<CheckedContinuation<Handoff, Never>> = []
        /// Waiting for the end (stopped, or every source ended and drained).
        var endWaiters: [CheckedContinuation<Void, Never>] = []
        /// Items handed out and not yet ``finished()``.
        var running = 0
        var turn = 0
        /// Items waiting for a global-limit lease, off any runner.
        var parked = 0
        /// Parked items that got their lease: handed out before any new delivery.
        var leased: Deque<Item> = []
        /// A waiting runner was handed an item and resumed, and has not run yet. While one is on its way no
        /// other is woken: the woken runner wakes the next if work is still buffered when it runs, so a burst
        /// costs one wake-up per runner actually needed, not one per delivery.
        var waking = false
        /// Items handed to a runner that has not come back for another (or left) yet: runners busy.
        var executing = 0
        /// Deliveries in `buffers`.
        var buffered = 0
        /// Items handed out so far, and as counted at the last ``kickIfStalled()``.
        var takes = 0
        var takesAtKick = 0

        /// Counts an item handed to a runner.
        mutating func handOut() {
            running += 1
            executing += 1
            takes &+= 1
        }

        var ended: Bool { stopped || (open == 0 && buffers.allSatisfy(\.isEmpty) && parked == 0 && leased.isEmpty) }

        /// Who to wake now that it ended: every waiting runner (with nil) and every end waiter.
        mutating func takeWaitersIfEnded() -> Ending {
            guard ended else { return Ending() }
            defer { waiters.removeAll(); endWaiters.removeAll() }
            return Ending(runners: Array(waiters), enders: endWaiters)
        }
    }

    /// Those to resume, outside the lock, once the buffer has ended.
    private struct Ending {
        var runners: [CheckedContinuation<Handoff, Never>] = []
        var enders: [CheckedContinuation<Void, Never>] = []

        func resume() {
            for r in runners { r.resume(returning: Handoff(item: nil, woken: false)) }
            for e in enders { e.resume() }
        }
    }

    /// What a waiting runner is resumed with: an item (and whether it was woken for it by ``push(_:source:)``
    /// or ``passOn()``, so must pass the wake-up on), or `nil` at the end.
    private struct Handoff: Sendable {
        var item: Item?
        var woken: Bool
    }

    let sources: [Source]
    private let selection: LaneSelection
    private let state: Mutex<State>
    /// A job's typical run time here, nanoseconds (a moving average; 0 before the first).
    private let typicalRunNanos = Atomic<Int>(0)

    /// Jobs typically shorter than this leave a small backlog to the runner already busy.
    static let shortJob: Duration = .microseconds(100)
    /// The most buffered work (count × typical run time) left to a busy runner without waking another.
    static let backlogBudget: Duration = .milliseconds(1)
    private static let shortJobNanos = Int(shortJob / .nanoseconds(1))
    private static let backlogBudgetNanos = Int(backlogBudget / .nanoseconds(1))

    init(sources: [Source], selection: LaneSelection) {
        self.sources = sources
        self.selection = selection
        state = Mutex(State(buffers: Array(repeating: [], count: sources.count), open: sources.count))
    }

    /// Buffers a delivery (called on the I/O thread). Wakes a waiting runner only when none is already on
    /// its way (see `State.waking`) and no busy runner is to take it (``wantsAnotherRunner(_:)``).
    func push(_ delivery: AMQPDelivery, source index: Int) {
        let handoff = state.withLock { s -> (CheckedContinuation<Handoff, Never>, Item)? in
            s.buffers[index].append(delivery)
            s.buffered += 1
            guard !s.stopped, !s.waking, !s.waiters.isEmpty, wantsAnotherRunner(s), let item = pick(&s) else { return nil }
            s.handOut()
            s.waking = true
            return (s.waiters.removeFirst(), item)
        }
        if let (w, item) = handoff { w.resume(returning: Handoff(item: item, woken: true)) }
    }

    /// How long the last job took on its runner (a moving average of these is ``typicalRunTime``).
    func noteRunTime(_ took: Duration) {
        let (seconds, attoseconds) = took.components
        let ns = max(1, Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000))
        let old = typicalRunNanos.load(ordering: .relaxed)
        typicalRunNanos.store(old == 0 ? ns : old + (ns - old) / 8, ordering: .relaxed)
    }

    /// A job's typical run time here, `nil` before any ran.
    var typicalRunTime: Duration? {
        let ns = typicalRunNanos.load(ordering: .relaxed)
        return ns == 0 ? nil : .nanoseconds(ns)
    }

    /// Whether what is buffered needs a waiting runner woken: unless a runner is busy, jobs are short, and
    /// the backlog is small enough for that runner to take next (see the type's comment).
    private func wantsAnotherRunner(_ s: State) -> Bool {
        guard s.executing > 0 else { return true }
        let typical = typicalRunNanos.load(ordering: .relaxed)
        guard typical > 0, typical < Self.shortJobNanos else { return true }
        return s.buffered * typical > Self.backlogBudgetNanos
    }

    /// Wakes a waiting runner for what is buffered if no runner took anything since the last call: a busy
    /// runner left a backlog (``wantsAnotherRunner(_:)``) and is held up by a long job. Called periodically.
    func kickIfStalled() {
        let handoff = state.withLock { s -> (CheckedContinuation<Handoff, Never>, Item)? in
            defer { s.takesAtKick = s.takes }
            guard s.takes == s.takesAtKick, !s.stopped, !s.waking, !s.waiters.isEmpty, let item = pick(&s) else { return nil }
            s.handOut()
            s.waking = true
            return (s.waiters.removeFirst(), item)
        }
        if let (w, item) = handoff { w.resume(returning: Handoff(item: item, woken: true)) }
    }

    /// A handed-out item is to leave its runner to wait for a lease (the runner then reports ``finished()``).
    func park() { state.withLock { $0.parked += 1 } }

    /// A parked item got its lease: it runs next, before new deliveries.
    func pushLeased(_ item: Item) {
        let handoff = state.withLock { s -> CheckedContinuation<Handoff, Never>? in
            s.parked -= 1
            if !s.stopped, let w = s.waiters.popFirst() {
                s.handOut()
                return w
            }
            s.leased.append(item)
            return nil
        }
        handoff?.resume(returning: Handoff(item: item, woken: false))
    }

    /// A parked item gave up waiting (shutdown or a broker error): its delivery is left to the broker.
    func unpark() {
        state.withLock { s in
            s.parked -= 1
            return s.takeWaitersIfEnded()
        }.resume()
    }

    /// A source's consumer ended.
    func finish(source index: Int) {
        state.withLock { s in
            s.open -= 1
            return s.takeWaitersIfEnded()
        }.resume()
    }

    /// Stops handing out deliveries (shutdown): what is buffered stays unacked for the broker to redeliver.
    func stop() {
        state.withLock { s in
            s.stopped = true
            return s.takeWaitersIfEnded()
        }.resume()
    }

    /// The next delivery to run, waiting for one; `nil` once stopped or every source has ended and drained.
    /// Any number of runners may wait; each item handed out counts as running until ``finished()``.
    /// `returning`: the runner calling comes back from the item it was handed last (it is no longer busy).
    ///
    /// When a delivery is buffered it is taken at once, without suspending: a runner that finishes a job
    /// goes on to the next buffered one with no wake-up. Only a runner that finds the buffer empty waits.
    nonisolated(nonsending) func next(returning: Bool = false) async -> Item? {
        switch state.withLock({ s in
            if returning { s.executing -= 1 }
            return take(&s)
        }) {
        case .item(let item, let ending):
            ending.resume()
            return item
        case .end:
            return nil
        case .empty:
            break
        }
        let handoff = await withCheckedContinuation { (c: CheckedContinuation<Handoff, Never>) in
            // Re-checked under the lock: a delivery may have come since the fast path looked.
            let (ready, ending) = state.withLock { s -> (Handoff?, Ending) in
                switch take(&s) {
                case .item(let item, let ending): return (Handoff(item: item, woken: false), ending)
                case .end: return (Handoff(item: nil, woken: false), Ending())
                case .empty:
                    s.waiters.append(c)
                    return (nil, Ending())
                }
            }
            ending.resume()
            if let ready { c.resume(returning: ready) }
        }
        if handoff.woken { passOn() }
        return handoff.item
    }

    private enum Take {
        case item(Item, ending: Ending)
        case end
        case empty
    }

    /// Takes the next item under the lock, if any.
    private func take(_ s: inout State) -> Take {
        if s.stopped { return .end }
        if let item = pick(&s) {
            s.handOut()
            return .item(item, ending: s.takeWaitersIfEnded())
        }
        return s.open == 0 && s.parked == 0 ? .end : .empty
    }

    /// Run by a runner that was woken for an item: the wake-up is over; if work is still buffered and other
    /// runners wait, hand the next item to one of them (the chain goes on only while there is work, and
    /// while it is more than this runner takes next, ``wantsAnotherRunner(_:)``).
    private func passOn() {
        let (handoff, ending) = state.withLock { s -> ((CheckedContinuation<Handoff, Never>, Item)?, Ending) in
            s.waking = false
            guard !s.stopped, !s.waiters.isEmpty, wantsAnotherRunner(s), let item = pick(&s) else { return (nil, Ending()) }
            s.handOut()
            s.waking = true
            let w = s.waiters.removeFirst()
            return ((w, item), s.takeWaitersIfEnded())
        }
        ending.resume()
        if let (w, item) = handoff { w.resume(returning: Handoff(item: item, woken: true)) }
    }

    /// A handed-out item's job is over (settled or abandoned).
    func finished() { state.withLock { $0.running -= 1 } }

    /// A runner stops without coming back for another item (its job was taken over at its time limit).
    func leave() { state.withLock { $0.executing -= 1 } }

    /// Items handed out and not yet finished.
    var running: Int { state.withLock { $0.running } }

    /// Runners waiting for a delivery.
    var waitingRunners: Int { state.withLock { $0.waiters.count } }

    /// Deliveries buffered, not yet handed out.
    var bufferedCount: Int { state.withLock { $0.buffered } }

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
        if s.buffers.count == 1 {  // one queue, one lane: no choice to make
            guard let delivery = s.buffers[0].popFirst() else { return nil }
            s.buffered -= 1
            return Item(delivery: delivery, source: sources[0])
        }
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
        s.buffered -= 1
        return Item(delivery: s.buffers[chosen].removeFirst(), source: sources[chosen])
    }
}
