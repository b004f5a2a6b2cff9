import Synchronization
import WarrenAMQP

/// Workflow step ids this worker process completed lately (bounded, oldest forgotten first): a second
/// copy of a step (published twice because its predecessor ran twice after a kill) is acked without
/// running again, so one kill duplicates a step or two, not the rest of the chain. Per process: a copy
/// that reaches another worker still runs (at-least-once).
final class RecentSteps: Sendable {
    private struct State {
        var ids: Set<String> = []
        var order: [String] = []
        var head = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func contains(_ id: String) -> Bool { state.withLock { $0.ids.contains(id) } }

    func insert(_ id: String) {
        state.withLock { s in
            guard s.ids.insert(id).inserted else { return }
            if s.order.count < capacity {
                s.order.append(id)
            } else {
                s.ids.remove(s.order[s.head])
                s.order[s.head] = id
                s.head = (s.head + 1) % capacity
            }
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
