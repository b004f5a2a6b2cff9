import Foundation
import WarrenAMQP

/// Moves dead letters back to work (requeue) or deletes them (purge), losslessly.
///
/// ## Kill safety
/// Messages are read with ``DeadLetterCursor`` (held unacked, so unselected ones never move). Selected ones
/// are republished in batches of ``batchSize`` on a confirm channel, and each is acked in the dead-letter
/// queue only after the broker confirmed its copy. Killed at any point (SIGKILL included), the connection
/// dies and the broker returns every message not yet acked: a message is either still in the dead-letter
/// queue or in its work queue, never nowhere. A kill between a batch's confirms and its acks leaves those
/// messages in both places: at most ``batchSize`` duplicates per interrupted run (one batch is in that state
/// at a time). The job id (`message_id`) is kept, so duplicates can be recognised.
public struct DeadLetterMover: Sendable {
    /// The connection to use.
    public let connection: AMQPConnection
    /// Messages per confirm batch: the most that can be duplicated when a run is killed. Default 500.
    public var batchSize: Int
    /// Most messages per second, or `nil` for as fast as the broker confirms.
    public var rate: Double?

    /// Creates a mover.
    public init(connection: AMQPConnection, batchSize: Int = 500, rate: Double? = nil) {
        self.connection = connection
        self.batchSize = max(1, batchSize)
        self.rate = rate.flatMap { $0 > 0 ? $0 : nil }
    }

    /// Sends the selected messages of `queue` (at most `limit`) back to work as `options` says.
    public func requeue(queue: String, filter: DeadLetterFilter = .all, limit: Int? = nil,
                        options: RequeueOptions = RequeueOptions(),
                        progress: @Sendable (DeadLetterProgress) -> Void = { _ in }) async throws -> DeadLetterMoveReport {
        try await move(queue: queue, filter: filter, limit: limit, progress: progress) { options.message(for: $0) }
    }

    /// Deletes the selected messages of `queue` (at most `limit`).
    public func purge(queue: String, filter: DeadLetterFilter = .all, limit: Int? = nil,
                      progress: @Sendable (DeadLetterProgress) -> Void = { _ in }) async throws -> DeadLetterMoveReport {
        try await move(queue: queue, filter: filter, limit: limit, progress: progress, rewrite: nil)
    }

    /// Moves every message of `queue` into `destination` unchanged (properties, all headers, body), through
    /// the default exchange and `mandatory`: were `destination` missing, the messages would stay where they
    /// are. Same kill safety as a requeue. Used by ``QueueMigration``; works on any queue.
    func transfer(queue: String, to destination: String,
                  progress: @Sendable (DeadLetterProgress) -> Void = { _ in }) async throws -> DeadLetterMoveReport {
        try await move(queue: queue, filter: .all, limit: nil, progress: progress) {
            OutgoingMessage(exchange: "", routingKey: destination, mandatory: true, properties: $0.properties, body: $0.body)
        }
    }

    private typealias Batch = [(delivery: AMQPDelivery, message: OutgoingMessage?)]

    private func move(queue: String, filter: DeadLetterFilter, limit: Int?, progress: @Sendable (DeadLetterProgress) -> Void,
                      rewrite: ((DeadLetter) -> OutgoingMessage)?) async throws -> DeadLetterMoveReport {
        try filter.validate()
        let started = ContinuousClock.now
        var report = DeadLetterMoveReport(queue: queue, maxDuplicatesIfKilled: batchSize)
        let publisher: AMQPChannel?
        do { publisher = rewrite == nil ? nil : try await connection.openChannel(confirmWindow: batchSize) } catch {
            throw WarrenError(error, "opening the publishing channel")
        }
        var cursor: DeadLetterCursor
        do {  // taking every message: consume (nothing is held back, so the prefetch only bounds what is in flight)
            cursor = try await DeadLetterCursor(queue, on: connection, consumePrefetch: filter.isEmpty ? 4 * batchSize : nil)
        } catch {
            await publisher?.close()
            throw error
        }
        let chunk = rate.map { max(1, min(batchSize, Int($0 / 4))) } ?? batchSize
        var pending: Batch = []
        var inFlight: Task<BatchOutcome, Never>?
        var sent = 0
        func send(_ batch: Batch) async {
            if let previous = inFlight { report.add(await previous.value) }
            if let rate {  // pace: the batch may start once the ones before it are due
                let due = started + .seconds(Double(sent) / rate)
                if due > ContinuousClock.now { try? await Task.sleep(until: due) }
            }
            sent += batch.count
            inFlight = Task { await Self.settle(batch, on: publisher) }
        }
        do {
            while report.selected < (limit ?? .max), let next = try await cursor.next() {
                report.scanned += 1
                if filter.matches(next.letter) {
                    report.selected += 1
                    pending.append((next.delivery, rewrite?(next.letter)))
                    if pending.count >= chunk {
                        await send(pending)
                        pending = []
                    }
                }
                if report.scanned % 100 == 0 { progress(report.progress(total: max(cursor.total, cursor.read))) }
            }
            if !pending.isEmpty { await send(pending) }
            if let last = inFlight { report.add(await last.value) }
        } catch {
            if let last = inFlight { _ = await last.value }
            await cursor.close()
            await publisher?.close()
            throw error
        }
        await cursor.close()
        await publisher?.close()
        report.elapsed = ContinuousClock.now - started
        progress(report.progress(total: max(cursor.total, cursor.read)))
        return report
    }

    /// Publishes a batch with confirms, then acks each source message whose copy was confirmed (for a purge,
    /// just acks). Messages whose copy failed stay unacked: the end of the pass returns them.
    private static func settle(_ batch: Batch, on publisher: AMQPChannel?) async -> BatchOutcome {
        var outcome = BatchOutcome()
        var confirmed: [AMQPDelivery] = []
        if let publisher {
            let messages = batch.compactMap(\.message)
            let results = await ConfirmedPublisher(channel: publisher, republishFor: .zero).publish(count: messages.count, describe: {
                (messages[$0].properties.messageID ?? "?", ConfirmedPublisher.queue(of: messages[$0]))
            }) { messages[$0] }
            for (item, result) in zip(batch, results) {
                switch result {
                case .success:
                    confirmed.append(item.delivery)
                case .failure(let error) where error.underlying != nil:
                    outcome.fail("\(error) (it stays in the dead-letter queue; a copy may have arrived)")
                case .failure(let error):
                    outcome.fail("\(error)")
                }
            }
        } else {
            confirmed = batch.map(\.delivery)
        }
        // An ack never waits for the I/O thread (it is marked, and written coalesced with the others): one loop,
        // no task per message.
        var failures: [String] = []
        for delivery in confirmed {
            do { try await delivery.ack() } catch {
                failures.append("acking job \(delivery.properties.messageID ?? "?"): \(error) (it is now in both queues)")
            }
        }
        outcome.done += confirmed.count - failures.count
        for failure in failures { outcome.fail(failure) }
        return outcome
    }
}

/// What one batch achieved.
struct BatchOutcome: Sendable {
    var done = 0
    var failed = 0
    var errors: [String] = []

    mutating func fail(_ message: String) {
        failed += 1
        if errors.count < 20 { errors.append(message) }
    }
}

/// How far a requeue or purge has got.
public struct DeadLetterProgress: Sendable, Hashable {
    /// Messages read so far.
    public var scanned: Int
    /// Messages the pass will read at most (the queue's size when it started).
    public var total: Int
    /// Messages selected so far.
    public var selected: Int
    /// Messages moved (or purged) so far.
    public var done: Int
}

/// The result of a requeue or purge of one queue.
public struct DeadLetterMoveReport: Sendable, Codable, Hashable {
    /// The dead-letter queue.
    public var queue: String
    /// Messages read.
    public var scanned = 0
    /// Messages selected by the filter (and limit).
    public var selected = 0
    /// Messages moved (requeue) or deleted (purge).
    public var done = 0
    /// Selected messages that stayed where they were (see ``errors``).
    public var failed = 0
    /// The first errors, for people.
    public var errors: [String] = []
    /// How long the run took.
    public var elapsed: Duration = .zero
    /// How many messages a kill of this run could have duplicated (the batch size).
    public var maxDuplicatesIfKilled: Int

    /// Messages per second.
    public var rate: Double { elapsed > .zero ? Double(done) / elapsed.seconds : 0 }

    init(queue: String, maxDuplicatesIfKilled: Int) {
        self.queue = queue
        self.maxDuplicatesIfKilled = maxDuplicatesIfKilled
    }

    mutating func add(_ batch: BatchOutcome) {
        done += batch.done
        failed += batch.failed
        errors += batch.errors.prefix(max(0, 20 - errors.count))
    }

    func progress(total: Int) -> DeadLetterProgress {
        DeadLetterProgress(scanned: scanned, total: total, selected: selected, done: done)
    }
}
