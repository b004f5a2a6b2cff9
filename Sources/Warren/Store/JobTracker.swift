import Foundation
import Logging
import Synchronization

/// Settings of a ``JobTracker``; every default is documented on its property.
public struct JobTrackerConfiguration: Sendable {
    /// Results larger than this (JSON bytes) are not stored; a note saying so is kept instead. Default 64 KiB.
    public var maxResultBytes: Int = 64 * 1024
    /// Progress of one attempt is written at most this often (the final `1.0` always). Default 250 ms.
    public var progressInterval: Duration = .milliseconds(250)
    /// Running jobs' heartbeat period (the sweeper's ``SweepPolicy/staleAfter`` must be well above). Default 10 s.
    public var heartbeatInterval: Duration = .seconds(10)
    /// Writes nobody awaits (`running`, progress, heartbeats) wait this long for company before a commit;
    /// outcomes are committed at once. Default 50 ms.
    public var linger: Duration = .milliseconds(50)
    /// A failing commit is retried this long before the batch is given up (logged). Default 30 s.
    public var retryFor: Duration = .seconds(30)
    /// Name of this worker in the store. Default `host:pid`.
    public var worker: String = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"

    /// Defaults.
    public init() {}
}

/// The worker middleware that records every job's life in a ``JobStore``: `running` when an attempt starts
/// (with worker and attempt), progress while it runs, and how it ends (succeeded with its result,
/// retrying with its error, dead with its reason) before the delivery is acked; unique keys are released
/// as the job's ``UniqueJob/Release`` says, and always when it dies.
///
/// Writes are group-committed (``StoreWriter``); the outcome is awaited before the ack, so a worker killed
/// between the two repeats the write on redelivery instead of skipping it. While an attempt runs its row is
/// heartbeated; a row whose worker died is marked lost by the sweeper until the redelivery runs it again.
public final class JobTracker: JobMiddleware {
    let writer: StoreWriter
    let configuration: JobTrackerConfiguration
    /// Jobs running here (heartbeated), each with its attempts under way and its last progress write.
    private let running = Mutex<[String: Running]>([:])
    private let heartbeat = Mutex<Task<Void, Never>?>(nil)

    /// A tracker writing to `store`.
    public init(store: any JobStore, configuration: JobTrackerConfiguration = JobTrackerConfiguration(),
                logger: Logger = Logger(label: "warren.store")) {
        self.writer = StoreWriter(store: store, retryFor: configuration.retryFor, linger: configuration.linger, logger: logger)
        self.configuration = configuration
    }

    deinit { heartbeat.withLock { $0?.cancel() } }

    public func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        let c = attempt.context
        let now = Date()
        var u = JobUpdate(id: c.jobID, state: .running, attempt: c.attempt, at: now)
        u.name = c.jobName
        u.queue = c.queue
        u.worker = configuration.worker
        u.enqueuedAt = c.enqueuedAt
        u.startedAt = now
        var releases: [UniqueRelease] = []
        if let held = UniqueJob.held(in: attempt.headers) {
            u.uniqueKey = held.key
            if held.release == .start { releases.append(UniqueRelease(key: held.key, jobID: c.jobID)) }
        }
        writer.submit(u, releases: releases)
        startHeartbeats()
        running.withLock { $0[c.jobID, default: Running()].attempts += 1 }
        defer {
            running.withLock {
                guard var r = $0[c.jobID] else { return }
                r.attempts -= 1
                $0[c.jobID] = r.attempts > 0 ? r : nil
            }
        }
        var a = attempt
        a.context.progressReporter = ProgressWriter(tracker: self, attempt: c.attempt)
        return try await next(a)
    }

    /// `true`: every outcome waits for a group commit, so the worker settles off its runners.
    public var settlementWaitsForIO: Bool { true }

    public func willSettle(_ settlement: JobSettlement) async {
        guard let (update, releases) = write(for: settlement) else { return }
        await writer.write(update, releases: releases)
    }

    /// As ``willSettle(_:)``, the worker's ack in the group commit's completion: no task per job.
    public func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) -> SettlementStart {
        guard let (update, releases) = write(for: settlement) else { return .done }
        writer.write(update, releases: releases) { completion(nil) }
        return .started
    }

    /// The row and unique-key releases to write for `settlement`, or `nil` for none.
    private func write(for settlement: JobSettlement) -> (JobUpdate, [UniqueRelease])? {
        guard let id = settlement.jobID,
              let update = Self.update(for: settlement, at: Date(), maxResultBytes: configuration.maxResultBytes) else { return nil }
        var releases: [UniqueRelease] = []
        if let held = UniqueJob.held(in: settlement.headers), UniqueJob.releases(held.release, on: settlement.disposition) {
            releases.append(UniqueRelease(key: held.key, jobID: id))
        }
        return (update, releases)
    }

    /// The key of the object stored instead of a result over ``JobTrackerConfiguration/maxResultBytes``:
    /// `{"warren-result-omitted": "N bytes, ..."}`.
    public static let resultOmittedKey = "warren-result-omitted"

    /// Whether a stored result is that placeholder rather than what the job returned.
    public static func isOmittedResult(_ stored: String) -> Bool { stored.contains("\"\(resultOmittedKey)\"") }

    /// The store write for a settlement, or `nil` for none (left to the broker at shutdown). Pure.
    static func update(for s: JobSettlement, at now: Date, maxResultBytes: Int) -> JobUpdate? {
        guard let id = s.jobID else { return nil }
        var u: JobUpdate
        switch s.disposition {
        case .leave:
            return nil
        case .ack:
            u = JobUpdate(id: id, state: .succeeded, attempt: s.attempt, at: now)
            u.finishedAt = now
            if let json = s.result?.json {
                u.result = json.count <= maxResultBytes ? String(decoding: json, as: UTF8.self)
                    : "{\"\(resultOmittedKey)\":\"\(json.count) bytes, over the store's limit of \(maxResultBytes)\"}"
            }
        case .defer(let delay):
            u = JobUpdate(id: id, state: .scheduled, attempt: s.attempt, at: now)
            u.runAt = now.addingTimeInterval(delay.seconds)
        case .interrupt:
            // Back in its queue with its cursor, the same attempt: waiting to resume.
            u = JobUpdate(id: id, state: .scheduled, attempt: s.attempt, at: now)
        case .retry(_, let delay, let failure):
            u = JobUpdate(id: id, state: .retrying, attempt: s.attempt, at: now)
            u.runAt = now.addingTimeInterval(delay.seconds)
            u.lastError = "\(failure.type): \(failure.message)"
        case .deadLetter(let reason, let failure):
            u = JobUpdate(id: id, state: .dead, attempt: s.attempt, at: now)
            u.finishedAt = now
            u.deadReason = reason.rawValue
            u.lastError = "\(failure.type): \(failure.message)"
        }
        u.name = s.jobName
        u.queue = s.queue
        return u
    }

    /// Heartbeats the running jobs every ``JobTrackerConfiguration/heartbeatInterval`` while the tracker lives.
    private func startHeartbeats() {
        heartbeat.withLock { task in
            guard task == nil else { return }
            let interval = configuration.heartbeatInterval
            task = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard let self else { return }
                    let ids = self.running.withLock { Array($0.keys) }
                    if !ids.isEmpty { self.writer.submit(heartbeats: ids) }
                }
            }
        }
    }
}

/// A running job's entry in the tracker.
struct Running {
    /// Attempts of the job running here (two only while a redelivery overlaps the attempt it replaces).
    var attempts = 0
    /// When its progress was last written.
    var lastProgress: ContinuousClock.Instant?
}

extension JobTracker {
    /// Whether a progress report of `fraction` for `jobID` is to be written now: the first, the final `1.0`,
    /// and then at most one per ``JobTrackerConfiguration/progressInterval``.
    func progressDue(jobID: String, fraction: Double, at now: ContinuousClock.Instant) -> Bool {
        running.withLock { r in
            guard Self.progressDue(fraction: fraction, last: r[jobID]?.lastProgress, now: now,
                                   interval: configuration.progressInterval) else { return false }
            r[jobID]?.lastProgress = now
            return true
        }
    }

    /// The rule: a report is written when it is the final one (`fraction` 1), the attempt's first (`last`
    /// `nil`), or `interval` after the last one written. Pure.
    static func progressDue(fraction: Double, last: ContinuousClock.Instant?, now: ContinuousClock.Instant,
                            interval: Duration) -> Bool {
        guard fraction < 1, let last else { return true }
        return now - last >= interval
    }
}

/// Writes one attempt's progress through its tracker, at most once per interval (the final report of 1.0
/// always). Two words, no allocation per job: the throttle's state is the job's entry in the tracker.
struct ProgressWriter: JobProgressReporter {
    let tracker: JobTracker
    let attempt: Int

    func report(jobID: String, fraction: Double, message: String?) async {
        guard tracker.progressDue(jobID: jobID, fraction: fraction, at: .now) else { return }
        var u = JobUpdate(id: jobID, state: .running, attempt: attempt)
        u.progress = fraction
        u.progressMessage = message
        tracker.writer.submit(u)
    }
}
