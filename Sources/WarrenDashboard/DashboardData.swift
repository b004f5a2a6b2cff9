import Foundation
import Logging
import Synchronization
import Warren
import WarrenAMQP
import WarrenManagement
import WarrenMetrics

/// Everything the pages show, fetched from the library: ``BrokerStatus`` (queues), the management API
/// (broker overview, consumers), the ``PresenceBoard`` (workers, rates, schedules) and the dead-letter types.
/// Broker reads are cached for half the refresh interval, so any number of open pages costs the broker
/// the same: per refresh at most one status probe round (one passive declare per probed queue) and one
/// request each to `/api/queues`, `/api/overview` and `/api/consumers`.
public final class DashboardData: Sendable {
    /// The overview page's data.
    public struct Overview: Sendable, Codable {
        /// AMQP connection state.
        public var connected: Bool
        /// Broker version and node, from the management API.
        public var broker: String?
        /// Why the management API gave nothing (`nil` when it answered or is turned off).
        public var managementError: String?
        /// Messages over all queues (management API).
        public var messages: Int?
        /// Unacknowledged over all queues (management API).
        public var unacked: Int?
        /// Job rates from the workers' announcements.
        public var activity: Activity
        /// Live workers.
        public var workers: Int
    }

    let connection: AMQPConnection
    let management: ManagementAPI?
    let statistics: [any QueueStatisticsSource]
    let topology: Topology
    let board: PresenceBoard
    let jobs: (any DashboardJobSource)?
    private let cacheSeconds: Double
    private let statusCache = Mutex<(Date, BrokerStatus)?>(nil)
    private let overviewCache = Mutex<(Date, ManagementAPI.Overview?, String?)?>(nil)

    /// Data for `topology` over `connection` (with recovery; probes and announcements), the management API
    /// when configured, and `rabbitmqctl` as a second statistics source.
    public init(connection: AMQPConnection, topology: Topology, management: ManagementAPI?, rabbitmqctl: RabbitMQCtl?,
                board: PresenceBoard, jobs: (any DashboardJobSource)?, refreshInterval: Double) {
        self.connection = connection
        self.topology = topology
        self.management = management
        self.statistics = (management.map { [$0] } ?? []) + (rabbitmqctl.map { [$0] } ?? [])
        self.board = board
        self.jobs = jobs
        self.cacheSeconds = refreshInterval / 2
    }

    /// The queues report (the same as `warren status`).
    public func queues(now: Date = Date()) async throws -> BrokerStatus {
        if let cached = statusCache.withLock({ $0 }), now.timeIntervalSince(cached.0) < cacheSeconds { return cached.1 }
        let status = try await BrokerStatus.collect(topology: topology, connection: connection, statistics: statistics)
        statusCache.withLock { $0 = (now, status) }
        return status
    }

    /// The overview.
    public func overview(now: Date = Date()) async -> Overview {
        var cached = overviewCache.withLock { $0 }
        if cached == nil || now.timeIntervalSince(cached!.0) >= cacheSeconds, let management {
            do {
                cached = (now, try await management.overview(), nil)
            } catch {
                cached = (now, nil, "\(error)")
            }
            overviewCache.withLock { $0 = cached }
        }
        let o = cached?.1
        return Overview(connected: connection.isConnected,
                        broker: o.map { "RabbitMQ \($0.rabbitmqVersion ?? "?") on \($0.node ?? "?")" },
                        managementError: management == nil ? "management API turned off (WARREN_MANAGEMENT_URL=off)" : cached?.2,
                        messages: o?.queueTotals?.messages, unacked: o?.queueTotals?.messagesUnacknowledged,
                        activity: board.activity(now: now),
                        workers: board.processes(now: now).filter { $0.role == Announcer.Role.worker.rawValue }.count)
    }

    /// Live workers, from their announcements.
    public func workers(now: Date = Date()) -> [Announcement] {
        board.processes(now: now).filter { $0.role == Announcer.Role.worker.rawValue }
    }

    /// The broker's consumers (queue, client host and port, connection name) from the management API, or
    /// why there are none to show.
    public func consumers() async -> Result<[ManagementAPI.Consumer], ManagementError> {
        guard let management else { return .failure(ManagementError(.unreachable, "turned off (WARREN_MANAGEMENT_URL=off)")) }
        do { return .success(try await management.consumers()) } catch let e as ManagementError { return .failure(e) } catch {
            return .failure(ManagementError(.failed, "\(error)"))
        }
    }

    /// The schedules the live scheduler replicas announce.
    public func schedules(now: Date = Date()) -> [ScheduleStatus] { ScheduleStatus.from(board.processes(now: now)) }

    /// The dead-letter queues of the topology that exist, with their counts, from the (cached) queues report.
    public func deadLetterQueues() async throws -> [QueueInfo] {
        let status = try await queues()
        let names = Set(topology.queues.map(\.name))
        return status.queues.compactMap { row in
            guard names.contains(row.queue), let dead = row.dead else { return nil }
            return QueueInfo(name: DeadLetterQueues.deadLetterQueue(for: row.queue), messageCount: UInt32(clamping: dead), consumerCount: 0)
        }
    }
}
