import DequeModule
import Synchronization
import WarrenAMQP

/// Deliveries received but not yet started, per source queue, and the choice of which runs next:
/// lanes of a queue by ``LaneSelection``, queues in turn. Bounded by the consumers' prefetch.
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
    }

    private struct State {
        var buffers: [Deque<AMQPDelivery>]
        var open: Int
        var stopped = false
        var waiter: CheckedContinuation<Item?, Never>?
        var turn = 0
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
        let waiter = state.withLock { s -> (CheckedContinuation<Item?, Never>, Item)? in
            if let w = s.waiter, !s.stopped {
                s.waiter = nil
                return (w, Item(delivery: delivery, source: sources[index]))
            }
            s.buffers[index].append(delivery)
            return nil
        }
        if let (w, item) = waiter { w.resume(returning: item) }
    }

    /// A source's consumer ended.
    func finish(source index: Int) {
        let waiter = state.withLock { s -> CheckedContinuation<Item?, Never>? in
            s.open -= 1
            if s.open == 0, s.buffers.allSatisfy(\.isEmpty) {
                defer { s.waiter = nil }
                return s.waiter
            }
            return nil
        }
        waiter?.resume(returning: nil)
    }

    /// Stops handing out deliveries (shutdown): what is buffered stays unacked for the broker to redeliver.
    func stop() {
        let waiter = state.withLock { s -> CheckedContinuation<Item?, Never>? in
            s.stopped = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next delivery to run, waiting for one; `nil` once stopped or every source has ended.
    /// Called by one dispatcher only.
    func next() async -> Item? {
        await withCheckedContinuation { (c: CheckedContinuation<Item?, Never>) in
            let ready = state.withLock { s -> Item?? in
                if s.stopped { return .some(nil) }
                if let item = pick(&s) { return .some(item) }
                if s.open == 0 { return .some(nil) }
                s.waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    private func pick(_ s: inout State) -> Item? {
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
