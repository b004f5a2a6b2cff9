import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import WarrenAMQP

/// Publishes recurring jobs on time, once per fire, however many replicas run (see docs/scheduler.md).
///
/// Each replica keeps one connection of its own, with automatic recovery turned OFF: a leadership term is
/// exactly one connection's life. On that connection it declares the schedules' queues and state queues,
/// then competes for the lock (``SchedulerLock``), retrying every ``SchedulerConfiguration/lockRetryInterval``.
/// The winner reads the last fired time of every schedule from the broker (``FireLedger``), publishes what
/// was missed, then fires on time. When its connection is lost it stops at once (its channels are dead:
/// nothing more can be published on them), and after ``SchedulerConfiguration/reconnectDelay`` connects
/// again and competes like any follower.
///
/// Runs until graceful shutdown or cancellation; a publish already handed to the broker completes first.
public final class SchedulerService: Service, Sendable {
    /// The schedules this replica fires when it leads.
    public let schedules: [ScheduleDefinition]
    /// Election and state settings.
    public let configuration: SchedulerConfiguration
    let broker: AMQPConfiguration
    let topology: Topology
    let observer: (any SchedulerObserver)?
    let logger: Logger
    let leading = Mutex(false)

    /// Creates a scheduler; nothing happens until ``run()``.
    ///
    /// - Parameters:
    ///   - broker: where to connect; the scheduler sets its own heartbeat and disables recovery.
    ///   - topology: how the schedules' work queues are declared and routed (priority lanes); by default a
    ///     classic queue per distinct ``ScheduleDefinition/queue``.
    /// - Throws: ``WarrenError/Code/invalidInput`` when two schedules share a name.
    public init(schedules: [ScheduleDefinition], broker: AMQPConfiguration, topology: Topology? = nil,
                configuration: SchedulerConfiguration = SchedulerConfiguration(),
                observer: (any SchedulerObserver)? = nil,
                logger: Logger = Logger(label: "warren.scheduler")) throws(WarrenError) {
        var seen = Set<String>()
        for s in schedules where !seen.insert(s.name).inserted {
            throw WarrenError(.invalidInput, "two schedules are named '\(s.name)'")
        }
        self.schedules = schedules
        self.configuration = configuration
        self.broker = broker
        self.topology = topology ?? Topology(queues: Self.queueNames(schedules).map { Topology.Queue($0) })
        self.observer = observer
        self.logger = logger
    }

    /// The distinct work queues of `schedules`, in first-use order.
    public static func queueNames(_ schedules: [ScheduleDefinition]) -> [String] {
        var seen = Set<String>()
        return schedules.map(\.queue).filter { seen.insert($0).inserted }
    }

    /// Whether this replica leads now.
    public var isLeader: Bool { leading.withLock { $0 } }

    /// Competes, leads, reconnects, until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        var config = broker
        config.heartbeat = configuration.heartbeat
        config.recovery.enabled = false
        if config.connectionName == "warren" { config.connectionName = "warren-scheduler" }
        logger.info("scheduler starting", metadata: [
            "group": "\(configuration.group)", "schedules": "\(schedules.count)", "broker": "\(config)",
        ])
        while !Task.isCancelled {
            do {
                let connection = try await AMQPConnection.connect(config, logger: logger)
                await term(on: connection)
                await connection.close()
            } catch {
                logger.warning("cannot connect to the broker", metadata: ["error": "\(error)"])
            }
            setLeading(false)
            if Task.isCancelled { break }
            try? await Task.sleep(for: configuration.reconnectDelay)
        }
        logger.info("scheduler stopped")
    }

    /// One connection's life: compete, maybe lead, until the connection dies or the task is cancelled.
    private func term(on connection: AMQPConnection) async {
        let events = connection.events()
        let term = LeaderTerm(service: self, connection: connection)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events {
                        switch event {
                        case .disconnected(let error), .failed(let error): throw error
                        default: continue
                        }
                    }
                    throw AMQPError(.closedByClient, "the scheduler's connection closed")
                }
                group.addTask { try await term.run() }
                try await group.next()
                group.cancelAll()
            }
        } catch is CancellationError {
        } catch let error as AMQPError where error.code == .closedByClient {
            // Our own close (shutdown): not a loss of leadership.
            logger.info(isLeader ? "stopped leading: the scheduler is shutting down" : "scheduler connection closed")
        } catch {
            logger.warning(isLeader ? "leadership lost: stopped publishing" : "scheduler connection ended",
                           metadata: ["error": "\(error)"])
        }
    }

    func setLeading(_ value: Bool) {
        let changed = leading.withLock { old in
            defer { old = value }
            return old != value
        }
        if changed { observer?.leadershipChanged(leading: value) }
    }
}
