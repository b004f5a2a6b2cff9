extension DeadLetterBrowser {
    /// One page of a dead-letter queue: the selected messages after skipping `offset` of them, at most
    /// `limit`. Reads only as far as the page ends (never the whole queue), so deep pages cost more than
    /// the first (unfiltered, the messages before the page are transferred but not decoded); everything is
    /// returned to the queue afterwards.
    ///
    /// An unfiltered page of up to 5,000 messages is streamed with a consumer whose prefetch is exactly the
    /// number of messages wanted (all are held, none acked, so the broker sends no more), instead of one
    /// `basic.get` round trip per message; a filtered page reads with `basic.get` as ``browse(queue:filter:limit:_:)`` does.
    public func page(queue: String, filter: DeadLetterFilter = .all, offset: Int, limit: Int) async throws -> DeadLetterPage {
        try filter.validate()
        let want = max(0, offset) + max(0, limit) + 1
        let stream = filter.isEmpty && want <= 5000
        var cursor = try await DeadLetterCursor(queue, on: connection, consumePrefetch: stream ? want : nil)
        var letters: [DeadLetter] = []
        var matched = 0
        do {
            // Streaming ends after the messages counted at the start (the consumer would wait for more).
            // Only messages that are shown (or must be matched against a filter) are decoded: the ones an
            // unfiltered page skips cost their transfer only.
            while matched < want, !stream || cursor.read < min(want, cursor.total), let delivery = try await cursor.nextDelivery() {
                let shown = matched >= offset && letters.count < limit
                guard shown || !filter.isEmpty else { matched += 1; continue }
                let letter = DeadLetter(deadLetterQueue: queue, delivery: delivery)
                guard filter.matches(letter) else { continue }
                matched += 1
                if matched > offset, letters.count < limit { letters.append(letter) }
            }
        } catch {
            await end(cursor)
            throw error
        }
        await end(cursor)
        return DeadLetterPage(letters: letters, offset: offset, hasMore: matched == want, scanned: cursor.read)
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
