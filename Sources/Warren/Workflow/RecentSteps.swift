import Synchronization
import WarrenAMQP

/// Workflow step ids this worker process is running or completed lately (completed ones bounded, oldest
/// forgotten first): a second copy of a step (published twice because its predecessor ran twice after a
/// kill) is acked without running again, so one kill duplicates a step or two, not the rest of the chain.
///
/// A copy that arrives while the first is still running here waits for the first to settle: had both run
/// side by side (as two runners would), both would publish a successor and the chain would run twice from
/// there on. If the first settles without success (retry, dead letter, shutdown) the copy runs.
/// Per process: a copy that reaches another worker still runs (at-least-once).
final class RecentSteps: Sendable {
    /// What ``begin(_:)`` decided for a copy.
    enum Start: Equatable {
        /// No copy ran or runs here: this one runs.
        case run
        /// A copy completed here: ack this one without running it.
        case completed
    }

    private struct State {
        var done: Set<String> = []
        var order: [String] = []
        var head = 0
        /// Steps running now, with the copies waiting for them.
        var running: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Claims step `id` for this attempt, or says it completed; waits while another copy runs here.
    /// Every `.run` must be followed by ``finish(_:completed:)``.
    func begin(_ id: String) async -> Start {
        while true {
            enum Step { case run, completed, wait }
            let step: Step = state.withLock { s in
                if s.done.contains(id) { return .completed }
                if s.running[id] == nil { s.running[id] = []; return .run }
                return .wait
            }
            switch step {
            case .run: return .run
            case .completed: return .completed
            case .wait:
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let parked = state.withLock { s -> Bool in
                        guard s.running[id] != nil else { return false }
                        s.running[id]!.append(c)
                        return true
                    }
                    if !parked { c.resume() }
                }
            }
        }
    }

    /// Ends step `id`'s run here (a no-op if it was not claimed): remembered if `completed`, and the copies
    /// waiting for it look again.
    func finish(_ id: String, completed: Bool) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            if completed { Self.remember(id, in: &s, capacity: capacity) }
            return s.running.removeValue(forKey: id) ?? []
        }
        for w in waiters { w.resume() }
    }

    private static func remember(_ id: String, in s: inout State, capacity: Int) {
        guard s.done.insert(id).inserted else { return }
        if s.order.count < capacity {
            s.order.append(id)
        } else {
            s.done.remove(s.order[s.head])
            s.order[s.head] = id
            s.head = (s.head + 1) % capacity
        }
    }
}

/// The itineraries read lately, by header text: the children of one group carry the same itinerary, so
/// each is decoded once rather than once per child. Bounded (emptied when full).
final class ItineraryCache: Sendable {
    private let capacity: Int
    private let entries = Mutex<[String: Itinerary]>([:])

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// The itinerary of header `value`, decoded at most once while cached.
    func itinerary(_ value: FieldValue) throws(ItineraryError) -> Itinerary {
        guard let text = value.stringValue else { return try Itinerary(header: value) }
        if let cached = entries.withLock({ $0[text] }) { return cached }
        let itinerary = try Itinerary(header: value)
        entries.withLock { e in
            if e.count >= capacity { e.removeAll(keepingCapacity: true) }
            e[text] = itinerary
        }
        return itinerary
    }
}
