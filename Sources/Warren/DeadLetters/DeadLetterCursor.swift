import Synchronization
import WarrenAMQP

/// Reads a dead-letter queue front to back without disturbing it: `basic.get` with manual acks on a
/// channel of its own, every message held unacknowledged until ``close()``, which returns all that were not
/// acked (the channel's close requeues them).
///
/// Why this method (see docs/dead-letters.md, verified on RabbitMQ 3.10):
/// - Holding every message until the end means none is fetched twice in one pass, so the pass ends when
///   the queue has no ready message left. It reads at most ``cap`` messages: the count at the start plus as
///   many again (at least 1,000), so that a steady inflow of new dead letters cannot keep it going forever,
///   while messages whose return from an earlier pass the broker had not applied yet when the count was
///   taken (quorum queues apply returns asynchronously) are still read.
/// - Classic queues put returned messages back at their original positions; quorum queues (3.10) serve
///   returned messages first, in their original order: either way the order is kept.
/// - Quorum queues before 4.3 count every return in `x-delivery-count`. That is harmless as long as the
///   dead-letter queue has no `x-delivery-limit` (Warren never sets one); with a limit, each pass would
///   bring messages closer to being dropped.
/// - `basic.get` is not bound by the prefetch, so held messages never stall the pass, and only delivery
///   tags stay in memory: bodies are dropped once each message has been looked at.
/// - Killed at any point, the connection dies and the broker returns everything not acked.
/// - A pass must end within the broker's `consumer_timeout` (30 min by default), after which the broker
///   closes the channel and returns the messages (nothing is lost, the pass fails).
///
/// When every message is wanted (`consumePrefetch` given), the cursor consumes instead:
/// nothing is ever held back, so the prefetch window only bounds what is in flight, and deliveries stream
/// without a round trip each. Order and safety are the same; what is not acked is returned by ``close()``.
/// Once the messages counted at the start are in, it cancels the consumer and ends with what the broker had
/// already sent (a delivery racing the cancel is rejected back to the queue); a queue counted empty is
/// read until 0.3 s pass without a message (returns a quorum queue has not applied yet).
struct DeadLetterCursor {
    /// The dead-letter queue.
    let queue: String
    /// The browsing channel.
    let channel: AMQPChannel
    /// Messages ready when the pass started.
    let total: Int
    /// The most messages the pass reads.
    var cap: Int { 2 * total + 1000 }
    private(set) var read = 0
    private var stream: ConsumerStream?

    /// A consumer with a watchdog that ends it when no message comes for a while (others took them).
    private struct ConsumerStream {
        let consumer: AMQPConsumer
        var iterator: AMQPConsumer.AsyncIterator
        let idle: IdleWatch
        let watchdog: Task<Void, Never>
    }

    /// Opens a channel on `connection` and notes how many messages `queue` holds. With `consumePrefetch`,
    /// consumes with that prefetch (only for passes that take every message). Throws
    /// ``WarrenError/Code/notFound`` when the queue does not exist.
    init(_ queue: String, on connection: AMQPConnection, consumePrefetch: Int? = nil) async throws(WarrenError) {
        let channel: AMQPChannel
        do { channel = try await connection.openChannel() } catch { throw WarrenError(error, "opening a channel") }
        self.queue = queue
        self.channel = channel
        do {
            total = Int(try await channel.inspectQueue(queue).messageCount)
            if let prefetch = consumePrefetch {
                try await channel.qos(prefetchCount: UInt16(clamping: prefetch))
                let consumer = try await channel.consume(queue: queue)
                let idle = IdleWatch()
                let watchdog = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(250))
                        if idle.waitedTooLong() { await consumer.cancel(); return }
                    }
                }
                stream = ConsumerStream(consumer: consumer, iterator: consumer.makeAsyncIterator(), idle: idle, watchdog: watchdog)
            }
        } catch {
            await channel.close()
            if error.replyCode == 404 { throw WarrenError(.notFound, "queue '\(queue)' does not exist", underlying: error) }
            throw WarrenError(error, "reading queue '\(queue)'")
        }
    }

    /// The next message, held unacknowledged, or `nil` at the end of the pass.
    mutating func next() async throws(WarrenError) -> (delivery: AMQPDelivery, letter: DeadLetter)? {
        guard let delivery = try await nextDelivery() else { return nil }
        return (delivery, DeadLetter(deadLetterQueue: queue, delivery: delivery))
    }

    /// The next message undecoded (for messages a page skips), held unacknowledged, or `nil` at the end.
    mutating func nextDelivery() async throws(WarrenError) -> AMQPDelivery? {
        guard read < cap else { return nil }
        let delivery: AMQPDelivery?
        if var s = stream {
            if read == total, total > 0 {
                // Every message counted at the start is in: stop the broker sending more and take what it
                // already sent (the stream ends after them), rather than wait out the idle limit. (Cancelling
                // again, should a caller ask past the end, changes nothing.)
                await s.consumer.cancel()
            }
            s.idle.begin(expectMore: read < total)
            defer { s.idle.end() }
            do { delivery = try await s.iterator.next() } catch {
                throw (error as? AMQPError).map { WarrenError($0, "reading '\(queue)'") } ?? WarrenError(.broker, "reading '\(queue)': \(error)")
            }
            stream = s
        } else {
            do { delivery = try await channel.get(queue: queue) } catch { throw WarrenError(error, "reading '\(queue)'") }
        }
        guard let delivery else { return nil }
        read += 1
        return delivery
    }

    /// Ends the pass: every message not acked goes back where it was.
    func close() async {
        stream?.watchdog.cancel()
        await channel.close()
    }
}

/// When a cursor started waiting for a delivery, so a watchdog can tell a dry queue from a slow caller:
/// up to 2 s while messages counted at the start are still to come, 0.3 s after that.
final class IdleWatch: Sendable {
    private let since = Mutex<(at: ContinuousClock.Instant, limit: Duration)?>(nil)

    func begin(expectMore: Bool) { since.withLock { $0 = (.now, expectMore ? .seconds(2) : .milliseconds(300)) } }
    func end() { since.withLock { $0 = nil } }
    func waitedTooLong() -> Bool {
        since.withLock { $0.map { ContinuousClock.now - $0.at > $0.limit } ?? false }
    }
}
