import DequeModule

/// What the I/O thread knows about one channel. Lives and dies on the I/O thread.
final class ChannelState {
    let id: UInt16
    /// Open on the current connection.
    var isOpen = false
    /// Closed by the application: not restored on reconnect.
    var userClosed = false
    /// Changes whenever the channel is (re)opened: deliveries from an older epoch cannot be settled.
    var epoch: UInt64 = 0
    /// Settlement state of the current epoch, shared by its deliveries (nil while closed).
    var settler: DeliverySettler?
    /// Why the broker closed it, until it is reopened.
    var closeError: AMQPError?
    /// `basic.qos` to restore on reopen.
    var prefetch: (count: UInt16, global: Bool)?
    /// Confirm window, when the application asked for confirm mode.
    var confirmWindow: Int?
    var confirms: ConfirmTracker?
    /// Publishes waiting for room in the confirm window, in publish order.
    var waiting: Deque<PendingPublish> = []
    var consumers: [String: ConsumerState] = [:]

    init(id: UInt16) { self.id = id }

    /// Fails everything in flight on this channel and forgets its deliveries.
    func invalidate(_ error: AMQPError) {
        isOpen = false
        settler?.invalidate()
        settler = nil
        confirms?.failAll(error)
        let pending = waiting
        waiting.removeAll()
        for p in pending { p.fail(error) }
    }

    /// The next publish the confirm window has room for, made now if it comes from a ``MessageSource``.
    func popPending() -> (message: OutgoingMessage, waiter: PublishWaiter)? {
        guard let first = waiting.first else { return nil }
        switch first {
        case .message(let message, let waiter):
            waiting.removeFirst()
            return (message, waiter)
        case .made(let source):
            let index = source.next
            source.next += 1
            if source.next == source.count { waiting.removeFirst() }
            return (source.make(index), .batch(source.collector, index: index))
        }
    }
}

/// A publish waiting for room in a channel's confirm window (I/O thread only).
enum PendingPublish {
    /// A message made by the caller.
    case message(OutgoingMessage, PublishWaiter)
    /// Messages made on the I/O thread, one at a time, as the window opens.
    case made(MessageSource)

    func fail(_ error: AMQPError) {
        switch self {
        case .message(_, let waiter): waiter.complete(.failure(error))
        case .made(let source): for i in source.next..<source.count { source.collector.set(i, .failure(error)) }
        }
    }
}

/// Messages `0..<count` of a batch, made by `make` on the I/O thread just before each is sent: the caller's
/// thread stays asleep while the batch is published, and no message is built long before the window has
/// room for it (see ``AMQPChannel/beginPublishing(count:make:)``).
final class MessageSource {
    let count: Int
    let make: @Sendable (Int) -> OutgoingMessage
    let collector: BatchCollector
    /// The next index to make.
    var next = 0

    init(count: Int, make: @escaping @Sendable (Int) -> OutgoingMessage, collector: BatchCollector) {
        self.count = count
        self.make = make
        self.collector = collector
    }
}

/// A consumer registered on a channel (I/O thread side).
final class ConsumerState {
    let tag: String
    let queue: String
    let noAck: Bool
    let exclusive: Bool
    let arguments: FieldTable
    let sink: DeliverySink

    init(tag: String, queue: String, noAck: Bool, exclusive: Bool, arguments: FieldTable, sink: DeliverySink) {
        self.tag = tag
        self.queue = queue
        self.noAck = noAck
        self.exclusive = exclusive
        self.arguments = arguments
        self.sink = sink
    }
}

/// Where a consumer's deliveries go: an `AsyncSequence` (``AMQPConsumer``) or a handler called in place
/// (``AMQPChannel/consume(queue:consumerTag:noAck:exclusive:arguments:handler:)``). I/O thread only; neither
/// case blocks it.
enum DeliverySink {
    case stream(AsyncThrowingStream<AMQPDelivery, any Error>.Continuation)
    case handler(@Sendable (AMQPConsumerEvent) -> Void)

    func deliver(_ delivery: AMQPDelivery) {
        switch self {
        case .stream(let c): c.yield(delivery)
        case .handler(let h): h(.delivery(delivery))
        }
    }

    /// The consumer ended: normally (cancelled by us) when `error` is nil.
    func finish(throwing error: AMQPError? = nil) {
        switch self {
        case .stream(let c): if let error { c.finish(throwing: error) } else { c.finish() }
        case .handler(let h): h(.ended(error))
        }
    }
}
