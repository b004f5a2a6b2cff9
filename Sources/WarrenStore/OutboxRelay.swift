import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Warren
import WarrenAMQP

/// Publishes the PostgreSQL outbox (``PostgresOutbox``): one leader at a time (the broker's exclusive-queue
/// lock, as the scheduler's), woken by `LISTEN warren_outbox` and polling every `pollInterval` besides.
/// Each round, in one transaction: takes up to `batchSize` rows (`FOR UPDATE SKIP LOCKED`), publishes them
/// with confirms, deletes the confirmed ones. A relay killed between the confirms and the commit publishes
/// that round's rows again: duplicates at most `batchSize` per kill, never a loss.
public final class OutboxRelay: Service {
    let backend: PostgresBackend
    let connection: AMQPConnection
    let topology: Topology
    let lockQueue: String
    let batchSize: Int
    let pollInterval: Duration
    let logger: Logger
    let wakeup = Wakeup()

    /// A relay for the outbox of the PostgreSQL store at `url`, publishing on `connection`.
    public init(url: StoreURL, connection: AMQPConnection, topology: Topology, lockQueue: String = "warren.outbox.lock",
                batchSize: Int = 500, pollInterval: Duration = .seconds(1), logger: Logger = Logger(label: "warren.outbox")) throws(StoreError) {
        guard case .postgres(let host, let port, let user, let password, let database) = url else {
            throw StoreError(.invalidConfiguration, "transactional enqueue (the outbox) needs a PostgreSQL store; WARREN_STORE is \(url)")
        }
        backend = PostgresBackend(host: host, port: port, user: user, password: password, database: database, maxConnections: 3, logger: logger)
        self.connection = connection
        self.topology = topology
        self.lockQueue = lockQueue
        self.batchSize = max(1, batchSize)
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Waits for the lock, then relays until graceful shutdown or cancellation.
    public func run() async throws {
        defer { Task { [backend] in await backend.close() } }
        try await SQLJobStore(backend: backend).migrate()
        let channel = try await connection.openChannel()
        while try await !ExclusiveQueueLock.tryAcquire(lockQueue, on: channel) {
            try await Task.sleep(for: .seconds(1))
        }
        logger.info("outbox relay leading", metadata: ["lock": "\(lockQueue)"])
        let producer = try await JobProducer(connection: connection, topology: topology)
        let listener = Task { [backend, wakeup, logger] in
            while !Task.isCancelled {
                do {
                    try await backend.client.withConnection { c in
                        try await c.listen(on: PostgresOutbox.channel) { notifications in
                            wakeup.signal()  // listening: catch up on anything committed before
                            for try await _ in notifications { wakeup.signal() }
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("outbox LISTEN failed; polling until it is back", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        defer { listener.cancel() }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do throws(StoreError) {
                    if try await self.relayOnce(producer) == self.batchSize { continue }
                } catch {
                    self.logger.warning("outbox round failed", metadata: ["error": "\(error)"])
                }
                await self.wakeup.wait(timeout: self.pollInterval)
            }
        }
        await channel.close()
    }

    /// One round; returns how many rows it took.
    func relayOnce(_ producer: JobProducer) async throws(StoreError) -> Int {
        let limit = batchSize
        let logger = self.logger
        return try await backend.transaction { s throws(StoreError) in
            let rows = try await s.run("""
                SELECT seq, id, name, queue, arguments, priority, run_at, max_attempts FROM warren_outbox
                ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED
                """, [.int(limit)])
            guard !rows.isEmpty else { return 0 }
            let results = await producer.enqueue(batch: rows.map(PostgresOutbox.request))
            var done: [SQLValue] = []
            for (row, result) in zip(rows, results) {
                switch result {
                case .success: if let seq = row.int("seq") { done.append(.int(seq)) }
                case .failure(let error):
                    logger.error("outbox publish failed; the row stays for the next round", metadata: ["job.id": "\(row.string("id") ?? "-")", "error": "\(error)"])
                }
            }
            if !done.isEmpty {
                try await s.run("DELETE FROM warren_outbox WHERE seq IN (" + Array(repeating: "?", count: done.count).joined(separator: ", ") + ")", done)
            }
            return rows.count
        }
    }
}

/// A wake-up signal with a timeout: ``signal()`` wakes one ``wait(timeout:)`` (or the next one, if none waits).
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func signal() {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter { s.waiter = nil; return w }
            s.pending = true
            return nil
        }
        w?.resume()
    }

    func wait(timeout: Duration) async {
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self?.signal() }
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.pending { s.pending = false; return true }
                s.waiter = c
                return false
            }
            if now { c.resume() }
        }
        timer.cancel()
    }
}
