import Foundation
import WarrenAMQP

/// Read-only access to dead-letter queues: listing, finding and counting, without reordering, removing
/// or redelivering anything for good (see ``DeadLetterCursor`` for the method).
public struct DeadLetterBrowser: Sendable {
    /// The connection browsing channels are opened on.
    public let connection: AMQPConnection

    /// Creates a browser.
    public init(connection: AMQPConnection) {
        self.connection = connection
    }

    /// Calls `visit` with each message of `queue` that `filter` selects, in queue order, up to `limit`
    /// of them; `visit` returns `false` to stop early. Returns how many messages were read. Everything is
    /// returned to the queue afterwards; nothing but the message being visited is kept in memory.
    @discardableResult
    public func browse(queue: String, filter: DeadLetterFilter = .all, limit: Int? = nil,
                       _ visit: (DeadLetter) async throws -> Bool) async throws -> Int {
        try filter.validate()
        var cursor = try await DeadLetterCursor(queue, on: connection)
        var matched = 0
        do {
            while matched < (limit ?? .max), let letter = try await cursor.next()?.letter {
                guard filter.matches(letter) else { continue }
                matched += 1
                if try await !visit(letter) { break }
            }
        } catch {
            await end(cursor)
            throw error
        }
        await end(cursor)
        return cursor.read
    }

    /// Ends a read-only pass: closes `cursor`, which returns every message it read, then waits (up to 1 s)
    /// until its queue holds at least that many messages again. The broker returns a closed channel's
    /// unacked messages only after its close-ok, so a pass right after this one (or a count) could otherwise
    /// find them missing. Returns at once when nothing was read; a queue that others drain meanwhile costs
    /// the full second at most.
    func end(_ cursor: DeadLetterCursor) async {
        await cursor.close()
        guard cursor.read > 0, let channel = try? await connection.openChannel() else { return }
        for _ in 0..<100 {
            guard let ready = try? await channel.inspectQueue(cursor.queue).messageCount, Int(ready) < cursor.read else { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        await channel.close()
    }

    /// The selected messages of `queue`, in queue order, up to `limit`.
    public func list(queue: String, filter: DeadLetterFilter = .all, limit: Int? = nil) async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        try await browse(queue: queue, filter: filter, limit: limit) { letters.append($0); return true }
        return letters
    }

    /// The messages of `queue` whose id is `id` (more than one when a duplicate exists).
    public func find(id: String, queue: String) async throws -> [DeadLetter] {
        try await list(queue: queue, filter: DeadLetterFilter(ids: [id]))
    }

    /// Counts the selected messages of `queue` by job, error type and reason, with the oldest and newest
    /// failure times.
    public func stats(queue: String, filter: DeadLetterFilter = .all) async throws -> DeadLetterStats {
        var stats = DeadLetterStats(queue: queue)
        try await browse(queue: queue, filter: filter) { stats.add($0); return true }
        return stats
    }
}

/// Counts over one dead-letter queue.
public struct DeadLetterStats: Sendable, Codable, Hashable {
    /// The dead-letter queue.
    public var queue: String
    /// Messages counted.
    public var count = 0
    /// Earliest failure time seen.
    public var oldest: Date?
    /// Latest failure time seen.
    public var newest: Date?
    /// Messages per job name (`""`: not a readable job).
    public var byJob: [String: Int] = [:]
    /// Messages per last error type (`""`: none recorded).
    public var byErrorType: [String: Int] = [:]
    /// Messages per dead-letter reason (`""`: none recorded).
    public var byReason: [String: Int] = [:]

    /// Empty counts for `queue`.
    public init(queue: String) {
        self.queue = queue
    }

    /// Counts one message.
    public mutating func add(_ letter: DeadLetter) {
        count += 1
        if let at = letter.failedAt {
            oldest = min(oldest ?? at, at)
            newest = max(newest ?? at, at)
        }
        byJob[letter.job, default: 0] += 1
        byErrorType[letter.errorType ?? "", default: 0] += 1
        byReason[letter.reason ?? "", default: 0] += 1
    }
}
