extension DeadLetterBrowser {
    /// One page of a dead-letter queue: the selected messages after skipping `offset` of them, at most
    /// `limit`. Reads only as far as the page ends (never the whole queue), so deep pages cost more than
    /// the first; everything is returned to the queue afterwards.
    public func page(queue: String, filter: DeadLetterFilter = .all, offset: Int, limit: Int) async throws -> DeadLetterPage {
        var letters: [DeadLetter] = []
        var skipped = 0
        var more = false
        let read = try await browse(queue: queue, filter: filter, limit: offset + limit + 1) { letter in
            if skipped < offset {
                skipped += 1
            } else if letters.count < limit {
                letters.append(letter)
            } else {
                more = true
                return false
            }
            return true
        }
        return DeadLetterPage(letters: letters, offset: offset, hasMore: more, scanned: read)
    }
}

/// A page of dead letters.
public struct DeadLetterPage: Sendable {
    /// The messages, in queue order.
    public var letters: [DeadLetter]
    /// How many selected messages came before them.
    public var offset: Int
    /// Whether another selected message follows.
    public var hasMore: Bool
    /// Messages read to build the page (selected or not).
    public var scanned: Int
}
