import Foundation

/// How a deployment declares its queues, as operators set it: producers, workers, the CLI and the dashboard
/// must agree, so all read it from the same variables through this type.
///
/// | field | variable | default |
/// | --- | --- | --- |
/// | ``queues`` | `WARREN_QUEUES` (comma-separated) | `default` |
/// | ``mode`` | `WARREN_MODE` (`classic` or `quorum`) | classic |
/// | ``maxPriority`` | `WARREN_MAX_PRIORITY` (0...255, 0 for none) | 0 (none) |
/// | ``lanes`` | `WARREN_LANES` (1 for none) | 1 |
/// | ``externalQueues`` | `WARREN_EXTERNAL_QUEUES` (comma-separated) | none |
/// | ``maxLength`` | `WARREN_MAX_LENGTH` (jobs ready per work queue) | none |
/// | ``classicQueueMode`` | `WARREN_QUEUE_MODE` (`lazy` or `default`) | default |
public struct TopologySettings: Sendable, Hashable {
    /// Work queue names. Default `["default"]`.
    public var queues: [String] = ["default"]
    /// Queue type. Default classic.
    public var mode: Topology.Mode = .classic
    /// `x-max-priority` of classic work queues; 0 for none. Default 0: priority is opt-in, as in Celery and
    /// Dramatiq, because a priority queue costs the broker throughput (docs/operations.md, "Priority"). A
    /// queue that already exists with a priority keeps it (``QueueDeclaration/declare(on:)``).
    public var maxPriority: Int = 0
    /// Priority lanes per queue; 1 for none. Default 1.
    public var lanes: Int = 1
    /// Queues declared by another system with no arguments (e.g. Celery's `celery`). Default none.
    public var externalQueues: [String] = []
    /// Most jobs ready per work queue (`x-max-length` with `x-overflow=reject-publish`): an enqueue beyond it
    /// fails with ``WarrenError/Code/queueFull``. Default none.
    public var maxLength: Int?
    /// Where classic work queues keep waiting jobs (`x-queue-mode`). Default: RabbitMQ's default mode;
    /// lazy keeps them on disk, for queues that take large backlogs (``Topology/ClassicQueueMode``). A queue that already exists in the other mode keeps
    /// it (``QueueDeclaration/declare(on:)``); `warren topology migrate` changes it.
    public var classicQueueMode: Topology.ClassicQueueMode = .default

    /// The defaults.
    public init() {}

    /// The settings `environment` gives, defaults for what it leaves out. Throws
    /// ``WarrenError/Code/invalidInput`` for a value that is not of its form.
    public init(environment: [String: String]) throws(WarrenError) {
        if let q = environment["WARREN_QUEUES"] {
            let names = BrokerEnvironment.list([q])
            if !names.isEmpty { queues = names }
        }
        if let m = environment["WARREN_MODE"] {
            guard let mode = Topology.Mode(rawValue: m) else { throw WarrenError(.invalidInput, "WARREN_MODE must be classic or quorum, not '\(m)'") }
            self.mode = mode
        }
        if let p = environment["WARREN_MAX_PRIORITY"] {
            guard let value = Int(p) else { throw WarrenError(.invalidInput, "WARREN_MAX_PRIORITY must be an integer, not '\(p)'") }
            maxPriority = value
        }
        if let l = environment["WARREN_LANES"] {
            guard let value = Int(l) else { throw WarrenError(.invalidInput, "WARREN_LANES must be an integer, not '\(l)'") }
            lanes = value
        }
        externalQueues = BrokerEnvironment.list([environment["WARREN_EXTERNAL_QUEUES"] ?? ""])
        if let l = environment["WARREN_MAX_LENGTH"] {
            guard let value = Int(l), value >= 1 else { throw WarrenError(.invalidInput, "WARREN_MAX_LENGTH must be a positive integer, not '\(l)'") }
            maxLength = value
        }
        if let m = environment["WARREN_QUEUE_MODE"] {
            guard let mode = Topology.ClassicQueueMode(rawValue: m) else {
                throw WarrenError(.invalidInput, "WARREN_QUEUE_MODE must be lazy or default, not '\(m)'")
            }
            classicQueueMode = mode
        }
    }

    /// The topology these settings describe. Priority (`x-max-priority`) is declared only on classic queues
    /// without lanes: quorum queues refuse it, and lanes replace it. Throws ``WarrenError/Code/invalidInput``
    /// when `maxPriority` is outside 0...255 or `lanes` below 1.
    public func topology() throws(WarrenError) -> Topology {
        guard (0...255).contains(maxPriority) else { throw WarrenError(.invalidInput, "max priority must be 0...255, not \(maxPriority)") }
        guard lanes >= 1 else { throw WarrenError(.invalidInput, "lanes must be at least 1, not \(lanes)") }
        let usePriority = mode == .classic && maxPriority > 0 && lanes <= 1
        return Topology(mode: mode, queues: queues.map {
            Topology.Queue($0, maxPriority: usePriority ? UInt8(maxPriority) : nil, lanes: lanes,
                           external: externalQueues.contains($0), maxLength: maxLength)
        }, classicQueueMode: classicQueueMode)
    }
}

extension Topology {
    /// The topology a deployment's environment describes (see ``TopologySettings``).
    public init(environment: [String: String]) throws(WarrenError) {
        self = try TopologySettings(environment: environment).topology()
    }
}
