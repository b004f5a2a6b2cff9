import Synchronization

extension AMQPChannel {
    /// Publishes one message. On a confirm-mode channel, returns when the broker has acked, nacked or returned
    /// it; otherwise when it has been written. Throws ``AMQPError/Code/connectionLost`` when the connection
    /// died before the outcome was known (publish again: at-least-once).
    @discardableResult
    public func publish(_ message: OutgoingMessage) async throws(AMQPError) -> PublishOutcome {
        let id = self.id
        return try await mailbox.callDeferred { core, complete in core.publish(id, message, completion: complete) }
    }

    /// Publishes many messages, keeping up to the channel's confirm window in flight, and returns each one's
    /// outcome in order (a failed one as `.failure`). Far faster than one `publish` at a time.
    public func publish(_ messages: [OutgoingMessage]) async -> [Result<PublishOutcome, AMQPError>] {
        await beginPublishing(messages).outcomes()
    }

    /// Hands `messages` to the I/O thread at once, in order, without waiting; await their outcomes later
    /// with ``PublishBatch/outcomes()``. Lets a producer prepare the next batch while this one is in flight,
    /// and keeps publish order across batches (the mailbox is FIFO).
    public func beginPublishing(_ messages: [OutgoingMessage]) -> PublishBatch {
        beginPublishing(count: messages.count) { messages[$0] }
    }

    /// Publishes `count` messages made by `make` on the I/O thread, each just before the confirm window has room
    /// for it, in index order; await their outcomes with ``PublishBatch/outcomes()``. The fastest way to
    /// publish many messages: the caller's thread sleeps while they go out (a second busy thread beside the
    /// I/O thread costs throughput on a small machine), and no message is built long before it is sent.
    /// Keeps publish order with other publishes on the channel (the mailbox is FIFO).
    ///
    /// - Important: `make` runs on the connection's I/O thread, once per index from 0 to `count - 1`. It must
    ///   be quick and must not block, throw or call this connection's `async` API: while it runs, no frame is
    ///   read or written. Validate inputs before calling this.
    public func beginPublishing(count: Int, make: @escaping @Sendable (Int) -> OutgoingMessage) -> PublishBatch {
        let batch = PublishBatch(count: count)
        guard count > 0 else { return batch }
        let id = self.id
        let posted = mailbox.post { core in
            core.publish(id, count: count, make: make, collector: BatchCollector(count: count) { batch.finish(.success($0)) })
        }
        if !posted { batch.finish(.failure(Mailbox.closedError)) }
        return batch
    }

    /// Starts a consumer. Deliveries arrive as an `AsyncSequence`; with recovery they keep coming across
    /// reconnects. The sequence ends normally on ``AMQPConsumer/cancel()``, and throws when the broker cancels
    /// the consumer (``AMQPError/Code/consumerCancelled``) or closes its channel.
    public func consume(queue: String, consumerTag: String = "", noAck: Bool = false, exclusive: Bool = false,
                        arguments: FieldTable = [:]) async throws(AMQPError) -> AMQPConsumer {
        let id = self.id
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: AMQPDelivery.self)
        let tag = try await mailbox.call { core throws(AMQPError) in
            try core.consume(id, queue: queue, tag: consumerTag, noAck: noAck, exclusive: exclusive,
                             arguments: arguments, sink: .stream(continuation))
        }
        let mailbox = self.mailbox
        continuation.onTermination = { _ in
            mailbox.post { core in try? core.cancel(id, tag: tag) }
        }
        return AMQPConsumer(channel: self, tag: tag, queue: queue, stream: stream)
    }

    /// Starts a consumer whose deliveries are handed to `handler` as they are read, with no task hop: the
    /// fastest way to consume. Recovery, cancel and errors behave as with the `AsyncSequence` form, ending with
    /// one ``AMQPConsumerEvent/ended(_:)``.
    ///
    /// - Important: `handler` runs on the connection's I/O thread. It must return at once (put the delivery
    ///   in a buffer, resume a continuation): while it runs, no frame is read or written and no heartbeat
    ///   sent. It must not call this connection's `async` API and wait.
    /// - Returns: the consumer, to cancel it; iterating it yields nothing.
    public func consume(queue: String, consumerTag: String = "", noAck: Bool = false, exclusive: Bool = false,
                        arguments: FieldTable = [:],
                        handler: @escaping @Sendable (AMQPConsumerEvent) -> Void) async throws(AMQPError) -> AMQPConsumer {
        let id = self.id
        let tag = try await mailbox.call { core throws(AMQPError) in
            try core.consume(id, queue: queue, tag: consumerTag, noAck: noAck, exclusive: exclusive,
                             arguments: arguments, sink: .handler(handler))
        }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: AMQPDelivery.self)
        continuation.finish()
        return AMQPConsumer(channel: self, tag: tag, queue: queue, stream: stream)
    }

    /// Fetches one message (`basic.get`), or `nil` when the queue is empty.
    public func get(queue: String, noAck: Bool = false) async throws(AMQPError) -> AMQPDelivery? {
        let id = self.id
        return try await mailbox.call { core throws(AMQPError) in try core.get(id, queue: queue, noAck: noAck) }
    }

    /// Sends `basic.ack` for an arbitrary delivery tag, bypassing Warren's bookkeeping. For tools and tests of
    /// broker behaviour: an unknown tag makes the broker close the channel with 406 PRECONDITION_FAILED.
    public func ack(deliveryTag: UInt64, multiple: Bool = false) async throws(AMQPError) {
        let id = self.id
        try await mailbox.call { core throws(AMQPError) in try core.rawAck(id, tag: deliveryTag, multiple: multiple) }
    }
}

/// Outcomes of messages handed to the I/O thread by ``AMQPChannel/beginPublishing(_:)``.
public final class PublishBatch: Sendable {
    private struct State {
        var result: Result<[Result<PublishOutcome, AMQPError>], AMQPError>?
        var waiter: CheckedContinuation<[Result<PublishOutcome, AMQPError>], Never>?
    }
    private let state = Mutex(State())
    private let count: Int

    init(count: Int) {
        self.count = count
        if count == 0 { state.withLock { $0.result = .success([]) } }
    }

    func finish(_ result: Result<[Result<PublishOutcome, AMQPError>], AMQPError>) {
        let (waiter, outcomes) = state.withLock { s -> (CheckedContinuation<[Result<PublishOutcome, AMQPError>], Never>?, [Result<PublishOutcome, AMQPError>]) in
            s.result = result
            defer { s.waiter = nil }
            return (s.waiter, Self.flatten(result, count: count))
        }
        waiter?.resume(returning: outcomes)
    }

    private static func flatten(_ r: Result<[Result<PublishOutcome, AMQPError>], AMQPError>, count: Int) -> [Result<PublishOutcome, AMQPError>] {
        switch r {
        case .success(let outcomes): return outcomes
        case .failure(let error): return Array(repeating: .failure(error), count: count)
        }
    }

    /// Each message's outcome, in order, once all are known.
    public func outcomes() async -> [Result<PublishOutcome, AMQPError>] {
        await withCheckedContinuation { (c: CheckedContinuation<[Result<PublishOutcome, AMQPError>], Never>) in
            let ready = state.withLock { s -> [Result<PublishOutcome, AMQPError>]? in
                if let r = s.result { return Self.flatten(r, count: count) }
                s.waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}

/// Gathers per-message outcomes of a batch on the I/O thread and reports once all are in.
final class BatchCollector: @unchecked Sendable {  // touched only on the I/O thread
    private var results: [Result<PublishOutcome, AMQPError>?]
    private var remaining: Int
    private let done: ([Result<PublishOutcome, AMQPError>]) -> Void

    init(count: Int, done: @escaping ([Result<PublishOutcome, AMQPError>]) -> Void) {
        results = Array(repeating: nil, count: count)
        remaining = count
        self.done = done
    }

    func set(_ index: Int, _ result: Result<PublishOutcome, AMQPError>) {
        guard results[index] == nil else { return }
        results[index] = result
        remaining -= 1
        if remaining == 0 { done(results.map { $0! }) }
    }
}

/// What a handler-based consumer receives, on the I/O thread.
public enum AMQPConsumerEvent: Sendable {
    /// A message.
    case delivery(AMQPDelivery)
    /// The consumer ended: `nil` after ``AMQPConsumer/cancel()``, else why (broker cancel, channel closed,
    /// recovery given up).
    case ended(AMQPError?)
}

/// A running consumer: an `AsyncSequence` of deliveries (empty for a handler-based consumer).
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    /// The channel it consumes on.
    public let channel: AMQPChannel
    /// Its consumer tag.
    public let tag: String
    /// The queue it consumes from.
    public let queue: String
    let stream: AsyncThrowingStream<AMQPDelivery, any Error>

    /// Iterates deliveries.
    public func makeAsyncIterator() -> AsyncThrowingStream<AMQPDelivery, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Cancels the consumer (`basic.cancel`); the sequence ends after deliveries already received.
    /// Unsettled deliveries stay unacked until settled or until the channel closes.
    public func cancel() async {
        let id = channel.id
        let tag = self.tag
        _ = try? await channel.mailbox.call { core throws(AMQPError) in try core.cancel(id, tag: tag) }
    }
}
