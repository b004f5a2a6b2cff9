/// Declarations made through a connection's channels, replayed in order after a reconnect.
/// Server-named queues and declarations made with `recordForRecovery: false` are not recorded.
struct TopologyRecord {
    enum Item: Hashable {
        case exchange(name: String, type: String, durable: Bool, autoDelete: Bool, internal: Bool, arguments: FieldTable)
        case queue(name: String, durable: Bool, exclusive: Bool, autoDelete: Bool, arguments: FieldTable)
        case queueBinding(queue: String, exchange: String, routingKey: String, arguments: FieldTable)
        case exchangeBinding(destination: String, source: String, routingKey: String, arguments: FieldTable)

        /// Identity: a later declaration of the same thing replaces the earlier one.
        var key: String {
            switch self {
            case .exchange(let name, _, _, _, _, _): return "e\u{0}\(name)"
            case .queue(let name, _, _, _, _): return "q\u{0}\(name)"
            case .queueBinding(let q, let e, let k, let a): return "qb\u{0}\(q)\u{0}\(e)\u{0}\(k)\u{0}\(a.hashValue)"
            case .exchangeBinding(let d, let s, let k, let a): return "eb\u{0}\(d)\u{0}\(s)\u{0}\(k)\u{0}\(a.hashValue)"
            }
        }
    }

    private(set) var items: [Item] = []
    private var index: [String: Int] = [:]

    mutating func record(_ item: Item) {
        if let i = index[item.key] {
            items[i] = item
        } else {
            index[item.key] = items.count
            items.append(item)
        }
    }

    mutating func remove(where predicate: (Item) -> Bool) {
        items.removeAll(where: predicate)
        index = Dictionary(uniqueKeysWithValues: items.enumerated().map { ($1.key, $0) })
    }

    mutating func forgetQueue(_ name: String) {
        remove { item in
            switch item {
            case .queue(let n, _, _, _, _): return n == name
            case .queueBinding(let q, _, _, _): return q == name
            default: return false
            }
        }
    }

    mutating func forgetExchange(_ name: String) {
        remove { item in
            switch item {
            case .exchange(let n, _, _, _, _, _): return n == name
            case .queueBinding(_, let e, _, _): return e == name
            case .exchangeBinding(let d, let s, _, _): return d == name || s == name
            default: return false
            }
        }
    }
}
