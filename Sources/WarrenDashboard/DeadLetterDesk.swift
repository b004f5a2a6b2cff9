import Foundation
import Logging
import Synchronization
import Warren
import WarrenAMQP

/// The dashboard's dead-letter work, one operation at a time (a browse holds the messages it has read until
/// it ends, so two at once would each see part of the queue), on a connection without recovery
/// (``DeadLetterQueues/connect(_:logger:)``) that is reopened when lost. Moves are the CLI's:
/// ``DeadLetterMover`` with publisher confirms, lossless.
public final class DeadLetterDesk: Sendable {
    private let configuration: AMQPConfiguration
    private let topology: Topology
    private let logger: Logger
    private let gate = AsyncGate()
    private let current = Mutex<AMQPConnection?>(nil)

    /// A desk connecting with `configuration` (recovery is turned off).
    public init(configuration: AMQPConfiguration, topology: Topology, logger: Logger) {
        self.configuration = configuration
        self.topology = topology
        self.logger = logger
    }

    private func connection() async throws -> AMQPConnection {
        if let c = current.withLock({ $0 }), c.isConnected { return c }
        let c = try await DeadLetterQueues.connect(configuration, logger: logger)
        let old = current.withLock { cur in defer { cur = c }; return cur }
        await old?.close()
        return c
    }

    /// A page of `queue` (a dead-letter queue name).
    public func page(queue: String, filter: DeadLetterFilter, offset: Int, limit: Int) async throws -> DeadLetterPage {
        try await gate.run { try await DeadLetterBrowser(connection: try await connection()).page(queue: queue, filter: filter, offset: offset, limit: limit) }
    }

    /// The messages with `id` in `queue`.
    public func find(id: String, queue: String) async throws -> [DeadLetter] {
        try await gate.run { try await DeadLetterBrowser(connection: try await connection()).find(id: id, queue: queue) }
    }

    /// How many messages `filter` selects in `queue` (reads the whole queue; for confirmations).
    public func count(queue: String, filter: DeadLetterFilter) async throws -> Int {
        try await gate.run { try await DeadLetterBrowser(connection: try await connection()).stats(queue: queue, filter: filter).count }
    }

    /// Requeues the selected messages, after `delay` when given.
    public func requeue(queue: String, filter: DeadLetterFilter, delay: Duration?) async throws -> DeadLetterMoveReport {
        try await gate.run {
            let options = RequeueOptions(delay: delay, topology: topology)
            let report = try await DeadLetterMover(connection: try await connection()).requeue(queue: queue, filter: filter, options: options)
            logger.notice("dashboard requeue", metadata: ["queue": "\(queue)", "done": "\(report.done)", "failed": "\(report.failed)"])
            return report
        }
    }

    /// Deletes the selected messages.
    public func purge(queue: String, filter: DeadLetterFilter) async throws -> DeadLetterMoveReport {
        try await gate.run {
            let report = try await DeadLetterMover(connection: try await connection()).purge(queue: queue, filter: filter)
            logger.notice("dashboard purge", metadata: ["queue": "\(queue)", "done": "\(report.done)"])
            return report
        }
    }

    /// Closes the connection.
    public func close() async {
        let c = current.withLock { cur in defer { cur = nil }; return cur }
        await c?.close()
    }
}

/// Runs async operations one at a time, in arrival order.
final class AsyncGate: Sendable {
    private struct State {
        var busy = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func run<T>(_ body: () async throws -> T) async throws -> T {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go = state.withLock { s -> Bool in
                if s.busy { s.waiting.append(c); return false }
                s.busy = true
                return true
            }
            if go { c.resume() }
        }
        defer {
            let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
                if s.waiting.isEmpty { s.busy = false; return nil }
                return s.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
