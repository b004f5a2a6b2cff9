import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP
import WarrenStore

/// `warren enqueue NAME --args JSON`: enqueue jobs with confirms.
struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue", abstract: "Enqueue jobs (publisher confirms: returns once the broker has them).")

    @Argument(help: "Job name.")
    var name: String

    @Option(help: "Arguments as JSON.")
    var args: String = "{}"

    @Option(help: "Work queue.")
    var queue: String = "default"

    @Option(help: "Priority 0-255.")
    var priority: UInt8?

    @Option(help: "Delay, e.g. 250ms, 1.5s, 10m, 2h, 3d.")
    var delay: String?

    @Option(help: "Expire (dead-letter as expired) if not started within this duration.")
    var expires: String?

    @Option(help: "Job id (with --count > 1, a suffix -N is added).")
    var id: String?

    @Option(help: "Most attempts, overriding the worker's policy.")
    var maxAttempts: Int?

    @Option(help: "How many copies to enqueue (batched, confirms pipelined).")
    var count: Int = 1

    @Flag(name: .customLong("print-ids"), help: "Print each job id.")
    var printIDs = false

    @Option(help: "Deadline per batch of jobs, e.g. 2s: waiting while the broker blocks publishers, for room with --wait-when-full, through nacks (default 30s).")
    var timeout: String?

    @Flag(help: "Wait (until --timeout) for room in a full queue instead of failing with queueFull.")
    var waitWhenFull = false

    @Option(help: "Unique key: while a job holds it, enqueue nothing and print the holder's id (needs WARREN_STORE).")
    var uniqueKey: String?

    @Option(help: "How long the unique key is held at most, e.g. 10m.")
    var uniqueFor: String = "10m"

    @Option(help: "Release the unique key when the job starts or succeeds (start|success; always when it dies).")
    var uniqueUntil: String = "success"

    @OptionGroup var topologyOptions: TopologyOptions

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        if uniqueKey != nil {
            guard count == 1 else { throw ValidationError("--unique-key enqueues one job: drop --count") }
            guard UniqueJob.Release(rawValue: uniqueUntil) != nil else { throw ValidationError("--unique-until must be start or success") }
        }
        guard (try? JSONSerialization.jsonObject(with: Data(args.utf8), options: [.fragmentsAllowed])) != nil else {
            throw ValidationError("--args is not valid JSON: \(args)")
        }
    }

    func run() async throws {
        CLILogging.bootstrap()
        let logger = Logger(label: "warren.enqueue")
        var options = EnqueueOptions(queue: queue, priority: priority, maxAttempts: maxAttempts)
        if let delay { options.delay = try parseDuration(delay) }
        if let expires { options.expiresAt = Date().addingTimeInterval(try parseDuration(expires).seconds) }
        if let timeout { options.timeout = try parseDuration(timeout) }
        options.waitWhenFull = waitWhenFull
        let topology = try topologyOptions.topology(queues: [queue])
        // The store first: a unique key without one fails before anything touches the broker.
        let store: (any JobStore)?
        if uniqueKey == nil {
            store = try await StoreEnvironment.open(logger: logger)
        } else {
            store = try await StoreEnvironment.require("--unique-key", logger: logger)
        }
        let (producer, connection) = try await BrokerEnvironment.producer(name: "warren-enqueue", topology: topology, logger: logger)
        defer { Task { await connection.close() } }
        let tracked = store.map { TrackedProducer(producer: producer, store: $0) }
        if let uniqueKey, let tracked {
            options.jobID = id
            options.unique = .key(uniqueKey, for: try StoreEnvironment.duration(uniqueFor),
                                  until: UniqueJob.Release(rawValue: uniqueUntil) ?? .success)
            let receipt = try await tracked.enqueue(JobRequest(name: name, arguments: Array(args.utf8), options: options))
            print(receipt.existing ? "\(receipt.jobID) (existing: unique key '\(uniqueKey)' is held by this job; nothing enqueued)" : receipt.jobID)
            await store?.close()
            await connection.close()
            return
        }
        let arguments = Array(args.utf8)
        var failed = 0
        var done = 0
        let started = ContinuousClock.now
        while done < count {
            // Large slices: each waits for its last confirms before the next starts (one broker round trip).
            let n = min(50_000, count - done)
            let requests = (0..<n).map { i -> JobRequest in
                var o = options
                if let id { o.jobID = count == 1 ? id : "\(id)-\(done + i + 1)" }
                return JobRequest(name: name, arguments: arguments, options: o)
            }
            let results = if let tracked { try await tracked.enqueue(batch: requests) } else { await producer.enqueue(batch: requests) }
            for result in results {
                switch result {
                case .success(let id): if printIDs { print(id) }
                case .failure(let error):
                    failed += 1
                    if failed <= 5 { logger.error("enqueue failed", metadata: ["error": "\(error)"]) }
                }
            }
            done += n
        }
        let seconds = (ContinuousClock.now - started).seconds
        logger.info("enqueued", metadata: [
            "job": "\(name)", "queue": "\(queue)", "ok": "\(count - failed)", "failed": "\(failed)",
            "rate": "\(Int(Double(count) / max(seconds, 0.000_001)))/s",
        ])
        await store?.close()
        await connection.close()
        if failed > 0 { throw ExitCode(1) }
    }
}
