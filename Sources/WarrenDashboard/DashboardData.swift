import Foundation
import Logging
import Synchronization
import Warren
import WarrenAMQP
import WarrenManagement
import WarrenMetrics

/// Everything the pages show, fetched from the library: ``BrokerStatus`` (queues), the management API
/// (broker overview, consumers), the ``PresenceBoard`` (workers, rates, schedules), the dead-letter types,
/// the job store when one is configured (jobs, workflows) and ``LimitStatus`` (limits).
/// Broker reads are served from memory and reloaded in the background when older than half the refresh
/// interval (``Refreshing``), so any number of open pages costs the broker the same: per refresh at most one
/// queues report (one `GET /api/queues` and a passive declare per existing lane and dead-letter queue) and
/// one `GET /api/overview` and one passive declare per limit shown; the workers page asks `/api/consumers` per
/// view. Store reads are per view and bounded by the page size.
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
    /// The job store, when configured.
    public let store: (any JobStore)?
    private let status: Refreshing<BrokerStatus>
    private let limitStatus: Refreshing<[LimitStatus]>
    private let brokerOverview: Refreshing<(ManagementAPI.Overview?, String?)>
    /// How old the dead-letter queue list may get before a dead-letters view reloads the queues report.
    private let deadLetterListAge: Duration

    /// Data for `topology` over `connection` (with recovery; probes and announcements), the management API
    /// when configured, `rabbitmqctl` as a second statistics source, the job store `store` when configured,
    /// and the limits `globalLimits` (`JOB=N`) and `rateLimits` (`JOB=N/s`) as given to the workers.
    public init(connection: AMQPConnection, topology: Topology, management: ManagementAPI?, rabbitmqctl: RabbitMQCtl?,
                board: PresenceBoard, store: (any JobStore)?, globalLimits: [String] = [], rateLimits: [String] = [],
                refreshInterval: Double) {
        self.connection = connection
        self.topology = topology
        self.management = management
        self.statistics = (management.map { [$0] } ?? []) + (rabbitmqctl.map { [$0] } ?? [])
        self.board = board
        self.store = store
        let maxAge = Duration.milliseconds(Int64(refreshInterval * 500))
        self.deadLetterListAge = maxAge * 10
        let statistics = self.statistics
        self.status = Refreshing(maxAge: maxAge) {
            try await BrokerStatus.collect(topology: topology, connection: connection, statistics: statistics)
        }
        self.limitStatus = Refreshing(maxAge: maxAge) {
            if globalLimits.isEmpty && rateLimits.isEmpty { return [] }
            let channel = try await connection.openChannel()
            do {
                let limits = try await LimitStatus.read(global: globalLimits, rate: rateLimits, on: channel)
                await channel.close()
                return limits
            } catch {
                await channel.close()
                throw error
            }
        }
        self.brokerOverview = Refreshing(maxAge: maxAge) {
            guard let management else { return (nil, "management API turned off (WARREN_MANAGEMENT_URL=off)") }
            do { return (try await management.overview(), nil) } catch { return (nil, "\(error)") }
        }
    }

    /// The queues report (the same as `warren status`), at most about a refresh interval old.
    public func queues() async throws -> BrokerStatus { try await status.get() }

    /// Each limit shown, with holders and waiters (``LimitStatus``), at most about a refresh interval old.
    public func limits() async throws -> [LimitStatus] { try await limitStatus.get() }

    /// The overview.
    public func overview(now: Date = Date()) async -> Overview {
        let (o, error) = (try? await brokerOverview.get()) ?? (nil, nil)
        return Overview(connected: connection.isConnected,
                        broker: o.map { "RabbitMQ \($0.rabbitmqVersion ?? "?") on \($0.node ?? "?")" },
                        managementError: error, messages: o?.queueTotals?.messages, unacked: o?.queueTotals?.messagesUnacknowledged,
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

    /// The dead-letter queues of the topology that exist, with their counts, from the cached queues report,
    /// which dead-letter views reload only once it is 5 refresh intervals old: the report (a management API
    /// call and a passive declare per lane and dead-letter queue, 1-3 s of broker round trips with 100 queues)
    /// is not reloaded on every half interval while someone browses dead letters, competing with the browse
    /// itself. The overview and queues pages keep it as fresh as before while they are open.
    public func deadLetterQueues() async throws -> [QueueInfo] {
        let status = try await self.status.get(olderAllowed: deadLetterListAge)
        let names = Set(topology.queues.map(\.name))
        return status.queues.compactMap { row in
            guard names.contains(row.queue), let dead = row.dead else { return nil }
            return QueueInfo(name: DeadLetterQueues.deadLetterQueue(for: row.queue), messageCount: UInt32(clamping: dead), consumerCount: 0)
        }
    }
}
