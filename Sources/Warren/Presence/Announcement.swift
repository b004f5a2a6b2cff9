import Foundation

/// What a running Warren process (a worker or a scheduler replica) says about itself every
/// ``interval`` seconds on ``exchange``, so that dashboards see who runs without asking each host. A message
/// expires after ``expiryFactor`` intervals, and readers forget a process they have not heard from for as
/// long: a process killed without a word disappears within `expiryFactor * interval` seconds (15 s with the
/// default 5 s interval). A process that stops gracefully says so (``stopping``) and disappears at once.
public struct Announcement: Sendable, Codable, Hashable {
    /// The fanout exchange announcements go to (not durable: they matter only while read).
    public static let exchange = "warren.presence"
    /// Intervals without news after which a process counts as gone.
    public static let expiryFactor = 3.0

    /// Per work queue counters since the process started.
    public struct QueueCounters: Sendable, Codable, Hashable {
        /// Jobs that finished successfully.
        public var succeeded = 0
        /// Attempts that failed (threw or timed out), whatever happened next.
        public var failed = 0
        /// Failed attempts scheduled for another try.
        public var retried = 0
        /// Jobs sent to the dead-letter queue (failed for good, or rejected before running).
        public var deadLettered = 0
        /// Creates zero counters.
        public init() {}
    }

    /// One schedule as its scheduler replica sees it.
    public struct Schedule: Sendable, Codable, Hashable {
        /// Schedule name.
        public var name: String
        /// The trigger as written (cron expression, interval or instant) and its time zone.
        public var expression: String
        /// Job and queue it enqueues.
        public var job: String
        /// Work queue.
        public var queue: String
        /// The next few fire times.
        public var nextFires: [Date]
        /// The last fire this replica published, if any since it started.
        public var lastFire: Date?
        /// Creates an entry.
        public init(name: String, expression: String, job: String, queue: String, nextFires: [Date], lastFire: Date?) {
            self.name = name
            self.expression = expression
            self.job = job
            self.queue = queue
            self.nextFires = nextFires
            self.lastFire = lastFire
        }
    }

    /// `worker` or `scheduler`.
    public var role: String
    /// Unique per process run: `host:pid:random`.
    public var id: String
    /// Host name.
    public var host: String
    /// Process id.
    public var pid: Int32
    /// Queues consumed (workers) or fed (schedulers).
    public var queues: [String]
    /// Jobs run at once at most (workers).
    public var concurrency: Int?
    /// Jobs running now.
    public var busy: Int
    /// Jobs finished (any outcome) since start.
    public var jobsDone: Int
    /// Counters per work queue.
    public var counters: [String: QueueCounters]
    /// When the process started.
    public var startedAt: Date
    /// When this announcement was sent.
    public var sentAt: Date
    /// Seconds between announcements.
    public var interval: Double
    /// The process is shutting down: forget it now.
    public var stopping: Bool
    /// Scheduler replicas: whether this one leads.
    public var leading: Bool?
    /// Scheduler replicas: their schedules.
    public var schedules: [Schedule]?

    /// Creates an announcement.
    public init(role: String, id: String, host: String, pid: Int32, queues: [String], concurrency: Int?, busy: Int, jobsDone: Int,
                counters: [String: QueueCounters], startedAt: Date, sentAt: Date, interval: Double, stopping: Bool,
                leading: Bool? = nil, schedules: [Schedule]? = nil) {
        self.role = role
        self.id = id
        self.host = host
        self.pid = pid
        self.queues = queues
        self.concurrency = concurrency
        self.busy = busy
        self.jobsDone = jobsDone
        self.counters = counters
        self.startedAt = startedAt
        self.sentAt = sentAt
        self.interval = interval
        self.stopping = stopping
        self.leading = leading
        self.schedules = schedules
    }

    /// Encodes for the wire (JSON, dates as milliseconds since 1970).
    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .millisecondsSince1970
        return Array(try e.encode(self))
    }

    /// Decodes a message body; `nil` when it is not an announcement (anyone may publish to the exchange).
    public static func decode(_ body: [UInt8]) -> Announcement? {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .millisecondsSince1970
        return try? d.decode(Announcement.self, from: Data(body))
    }
}
