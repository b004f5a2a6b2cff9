import WarrenAMQP

/// Re-declares the queues of a work queue whose arguments must change, keeping every job.
///
/// RabbitMQ cannot change a queue's arguments in place: declaring it with others fails with 406
/// PRECONDITION_FAILED (`inequivalent arg 'x-max-priority'`). That happens when priority is added, changed or
/// removed, or when a queue first declared by another system (e.g. kombu, no dead-lettering arguments) is
/// taken over (no longer ``Topology/Queue/external``). For each queue of ``Topology/declarations(of:)``
/// whose declaration fails that way, a migration:
///
/// 1. binds a holding queue `<queue>.migrating` where the queue is bound, then unbinds the queue: new jobs
///    go to the holding queue;
/// 2. moves every message into the holding queue (published with confirms, each acked only after its copy
///    is confirmed), deletes the now empty queue and declares it anew with its bindings;
/// 3. unbinds the holding queue, moves its messages back the same way and deletes it.
///
/// Nothing is lost at any point, SIGKILL included: a message is acked in one queue only once the other has
/// it, and running the migration again picks up where it stopped (the holding queue tells). Jobs published
/// in the instant both queues are bound arrive twice (same job id), as does a move batch cut by a kill.
///
/// - Important: stop the workers of the queue first (a queue with consumers is refused: they would take
///   jobs mid-move), and pause producers that publish straight to the queue through the default exchange
///   (Warren's producers go through the `warren` exchange and are fine). The shared delay levels are not
///   migrated: switching a whole deployment to quorum mode is done in a new virtual host.
public struct QueueMigration: Sendable {
    /// The connection to use.
    public let connection: AMQPConnection
    /// The topology the queues must end up with.
    public let topology: Topology
    /// Messages per confirm batch while moving (the most a kill can duplicate). Default 500.
    public var batchSize: Int

    /// What happened to one queue.
    public struct Outcome: Sendable, Hashable {
        /// The queue.
        public var queue: String
        /// `false` when it already had the wanted arguments and no interrupted migration was pending.
        public var migrated: Bool
        /// Messages moved out of the queue into the holding queue.
        public var movedOut: Int
        /// Messages moved from the holding queue into the re-declared queue.
        public var movedBack: Int
    }

    /// Creates a migration to `topology`.
    public init(connection: AMQPConnection, topology: Topology, batchSize: Int = 500) {
        self.connection = connection
        self.topology = topology
        self.batchSize = max(1, batchSize)
    }

    /// The holding queue used while `queue` is re-declared.
    public static func holdingQueue(for queue: String) -> String { "\(queue).migrating" }

    /// Migrates every queue of `queue` (its dead-letter queue and each lane) that needs it.
    public func migrate(_ queue: Topology.Queue) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for declaration in topology.declarations(of: queue) { outcomes.append(try await migrate(declaration)) }
        return outcomes
    }

    /// Migrates one queue if its arguments differ from `declaration`'s, or finishes an interrupted migration.
    public func migrate(_ declaration: QueueDeclaration) async throws -> Outcome {
        let channel: AMQPChannel
        do { channel = try await connection.openChannel() } catch { throw WarrenError(error, "opening a channel") }
        do {
            let outcome = try await migrate(declaration, on: channel)
            await channel.close()
            return outcome
        } catch {
            await channel.close()
            throw error
        }
    }

    private func migrate(_ declaration: QueueDeclaration, on channel: AMQPChannel) async throws -> Outcome {
        let name = declaration.name
        let holding = Self.holdingQueue(for: name)
        var outcome = Outcome(queue: name, migrated: false, movedOut: 0, movedBack: 0)
        let pending = try await channel.queueIfExists(holding) != nil
        if try await !isCurrent(declaration, on: channel) {
            let consumers = try await channel.inspectQueue(name).consumerCount
            guard consumers == 0 else {
                throw WarrenError(.invalidInput, "queue '\(name)' has \(consumers) consumer(s): stop its workers before migrating it")
            }
            try await channel.declareQueue(holding, durable: true)
            for b in declaration.bindings { try await channel.bindQueue(holding, exchange: b.exchange, routingKey: b.routingKey) }
            for b in declaration.bindings { try await channel.unbindQueue(name, exchange: b.exchange, routingKey: b.routingKey) }
            outcome.movedOut = try await move(from: name, to: holding)
            guard try await deleteIfEmpty(name, on: channel) else {
                throw WarrenError(.broker, "queue '\(name)' received messages while being emptied (a producer publishing to it directly?): run the migration again")
            }
            try await declaration.declare(on: channel)
        } else if !pending {
            return outcome
        } else {
            try await declaration.declare(on: channel)  // bindings a kill may have left undone
        }
        outcome.migrated = true
        for b in declaration.bindings { try await channel.unbindQueue(holding, exchange: b.exchange, routingKey: b.routingKey) }
        outcome.movedBack = try await move(from: holding, to: name)
        guard try await deleteIfEmpty(holding, on: channel) else {
            throw WarrenError(.broker, "holding queue '\(holding)' received messages while being emptied: run the migration again")
        }
        return outcome
    }

    /// Whether `declaration` holds as the queue is now (declaring it when missing); `false` on 406.
    private func isCurrent(_ declaration: QueueDeclaration, on channel: AMQPChannel) async throws(AMQPError) -> Bool {
        try await channel.unlessRefused(406) { () async throws(AMQPError) in
            try await channel.declareQueue(declaration.name, durable: true, arguments: declaration.arguments)
        } != nil
    }

    /// Deletes `queue` unless it holds messages; `false` when it does (406).
    private func deleteIfEmpty(_ queue: String, on channel: AMQPChannel) async throws(AMQPError) -> Bool {
        try await channel.unlessRefused(406) { () async throws(AMQPError) in
            try await channel.deleteQueue(queue, ifEmpty: true)
        } != nil
    }

    /// Moves every message of `source` into `destination`; throws unless all of them made it.
    private func move(from source: String, to destination: String) async throws -> Int {
        let report = try await DeadLetterMover(connection: connection, batchSize: batchSize).transfer(queue: source, to: destination)
        guard report.failed == 0 else {
            throw WarrenError(.broker, "moving '\(source)' to '\(destination)': \(report.failed) message(s) stayed where they were (\(report.errors.first ?? "")); nothing is lost, run the migration again")
        }
        return report.done
    }
}
