import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import WarrenAMQP

/// Announces this process on ``Announcement/exchange`` every ``interval`` (a `Service`), and counts what the
/// worker does (a ``WorkerObserver``, forwarding every event to `next`, e.g. the metrics observer) or what
/// the scheduler does (a ``SchedulerObserver``). Announcements are published without confirms and expire:
/// losing one is harmless. On graceful shutdown a last announcement says the process is stopping.
///
/// ```swift
/// let presence = Announcer(connection: connection, role: .worker, queues: ["default"], concurrency: 16, next: metricsObserver)
/// let worker = Worker(connection: connection, registry: jobs, observer: presence)
/// // run `presence` and `worker` in one ServiceGroup
/// ```
public final class Announcer: Service, WorkerObserver, SchedulerObserver, Sendable {
    /// What kind of process announces.
    public enum Role: String, Sendable { case worker, scheduler }

    private struct State {
        var busy = 0
        var done = 0
        var counters: [String: Announcement.QueueCounters] = [:]
        var leading = false
        var lastFires: [String: Date] = [:]
    }

    /// Seconds between announcements. Default 5.
    public let interval: Double
    private let connection: AMQPConnection
    private let role: Role
    private let queues: [String]
    private let concurrency: Int?
    private let schedules: [ScheduleDefinition]
    private let next: (any WorkerObserver)?
    private let nextScheduler: (any SchedulerObserver)?
    private let id: String
    private let host: String
    private let startedAt = Date()
    private let state = Mutex(State())
    private let logger: Logger

    /// An announcer for a process of `role` on `queues`. `schedules`: a scheduler replica's schedules.
    public init(connection: AMQPConnection, role: Role, queues: [String], concurrency: Int? = nil,
                schedules: [ScheduleDefinition] = [], interval: Double = 5, next: (any WorkerObserver)? = nil,
                nextScheduler: (any SchedulerObserver)? = nil, logger: Logger = Logger(label: "warren.presence")) {
        self.connection = connection
        self.role = role
        self.queues = queues
        self.concurrency = concurrency
        self.schedules = schedules
        self.interval = max(0.2, interval)
        self.next = next
        self.nextScheduler = nextScheduler
        self.host = ProcessInfo.processInfo.hostName
        self.id = "\(host):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
        self.logger = logger
    }

    /// The announcement as of `now`.
    public func announcement(now: Date = Date(), stopping: Bool = false) -> Announcement {
        let s = state.withLock { $0 }
        let entries = role == .scheduler ? schedules.map { d in
            Announcement.Schedule(name: d.name, expression: Self.describe(d), job: d.job, queue: d.queue,
                                  nextFires: d.fireTimes(after: now, count: 3), lastFire: s.lastFires[d.name])
        } : nil
        return Announcement(role: role.rawValue, id: id, host: host, pid: getpid(), queues: queues, concurrency: concurrency,
                            busy: s.busy, jobsDone: s.done, counters: s.counters, startedAt: startedAt, sentAt: now,
                            interval: interval, stopping: stopping, leading: role == .scheduler ? s.leading : nil, schedules: entries)
    }

    /// A schedule's trigger as operators wrote it, with its time zone.
    static func describe(_ d: ScheduleDefinition) -> String {
        switch d.trigger {
        case .cron(let e): return "cron \(e) (\(d.timeZone.identifier))"
        case .interval(let every, _): return "every \(String(format: "%g", every.seconds)) s"
        case .once(let date): return "once at \(date)"
        }
    }

    /// Announces every ``interval`` until graceful shutdown, then once more as stopping.
    /// Announcing is never worth stopping the process for: when the channel cannot be set up, it logs
    /// and waits for shutdown.
    public func run() async throws {
        let channel: AMQPChannel
        do {
            channel = try await connection.openChannel()
            try await channel.declareExchange(Announcement.exchange, type: .fanout, durable: false)
        } catch {
            logger.warning("not announcing to dashboards", metadata: ["error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        // Cancelled at once on graceful shutdown (no wait for the next tick), or when the task is cancelled.
        try? await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                await send(on: channel, stopping: false)
                try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        }
        await send(on: channel, stopping: true)
        await channel.close()
    }

    private func send(on channel: AMQPChannel, stopping: Bool) async {
        do {
            let body = try announcement(stopping: stopping).encoded()
            let expiry = String(Int(interval * Announcement.expiryFactor * 1000))
            _ = try await channel.publish(OutgoingMessage(exchange: Announcement.exchange, routingKey: role.rawValue,
                                                          properties: BasicProperties(contentType: "application/json", expiration: expiry),
                                                          body: body))
        } catch {
            logger.debug("announcement not sent", metadata: ["error": "\(error)"])
        }
    }

    // MARK: WorkerObserver

    /// Counts a start.
    public func jobStarted(name: String, queue: String) {
        state.withLock { $0.busy += 1 }
        next?.jobStarted(name: name, queue: queue)
    }

    /// Counts an outcome.
    public func jobFinished(name: String, queue: String, outcome: JobOutcome, failed: Bool, duration: Duration) {
        state.withLock { s in
            s.busy -= 1
            s.done += 1
            // Updated in place: one lookup per job.
            s.counters[queue, default: .init()].count(outcome, failed: failed)
        }
        next?.jobFinished(name: name, queue: queue, outcome: outcome, failed: failed, duration: duration)
    }

    /// Counts a rejected delivery as dead-lettered.
    public func messageRejected(queue: String, reason: DeadLetterReason) {
        state.withLock { s in s.counters[queue, default: .init()].deadLettered += 1 }
        next?.messageRejected(queue: queue, reason: reason)
    }

    /// Forwarded.
    public func consumingChanged(_ consuming: Bool) { next?.consumingChanged(consuming) }

    /// Forwarded.
    public func published(queue: String, duration: Duration, ok: Bool) { next?.published(queue: queue, duration: duration, ok: ok) }
    public func publishFailed(queue: String, code: WarrenError.Code) { next?.publishFailed(queue: queue, code: code) }

    // MARK: SchedulerObserver

    /// Notes leadership.
    public func leadershipChanged(leading: Bool) {
        state.withLock { $0.leading = leading }
        nextScheduler?.leadershipChanged(leading: leading)
    }

    /// Notes the fire.
    public func fired(_ fire: FireRecord) {
        state.withLock { $0.lastFires[fire.schedule] = fire.fireTime }
        nextScheduler?.fired(fire)
    }
}

extension Announcement.QueueCounters {
    /// Counts one finished attempt.
    mutating func count(_ outcome: JobOutcome, failed: Bool) {
        if failed { self.failed += 1 }
        switch outcome {
        case .succeeded: succeeded += 1
        case .retried: retried += 1
        case .deadLettered: deadLettered += 1
        case .deferred, .abandoned, .interrupted: break
        }
    }
}
