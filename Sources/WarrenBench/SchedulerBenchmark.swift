import ArgumentParser
import Foundation
import Logging
import Synchronization
import Warren
import WarrenAMQP

/// `warren-bench scheduler`: fire lateness of the HA scheduler. N schedules fire every second for a while;
/// for each fire, lateness = publish time - scheduled time (and confirm time - scheduled time).
/// Target: p99 of the publish lateness <= 50 ms.
struct SchedulerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler", abstract: "Scheduler: fire lateness (publish time - scheduled time), p50/p99/max.")

    @Option(help: "How long to run, in seconds.") var seconds = 30
    @Option(help: "Schedules, each firing every second.") var schedules = 10
    @Flag(help: "Print JSON too.") var json = false
    @OptionGroup var broker: BrokerOptions

    /// Collects every fire the scheduler reports.
    final class Fires: SchedulerObserver {
        let records = Mutex<[FireRecord]>([])
        let led = Mutex<ContinuousClock.Instant?>(nil)
        func fired(_ fire: FireRecord) { records.withLock { $0.append(fire) } }
        func leadershipChanged(leading: Bool) { if leading { led.withLock { $0 = .now } } }
    }

    func run() async throws {
        guard seconds >= 3, schedules >= 1 else { throw ValidationError("--seconds >= 3 and --schedules >= 1") }
        var logger = Logger(label: "bench.scheduler")
        logger.logLevel = .error
        let queue = Bench.uniqueQueue("scheduler")
        let group = Bench.uniqueQueue("group")
        let definitions = try (0..<schedules).map { i in
            try ScheduleDefinition(name: "bench-\(i)", trigger: .interval(every: .seconds(1), anchor: nil), job: "noop",
                                   queue: queue, missedFires: .skip)
        }
        let config = SchedulerConfiguration(group: group)
        let fires = Fires()
        let service = try SchedulerService(schedules: definitions, broker: try AMQPConfiguration(url: broker.resolvedURL),
                                           configuration: config, observer: fires, logger: logger)
        Bench.progress("scheduler: \(schedules) schedules every second for \(seconds) s")
        let task = Task { try await service.run() }
        try await Task.sleep(for: .seconds(seconds))
        task.cancel()
        _ = try? await task.value

        // Fires published at takeover are late by design; measure the steady state only.
        let records = fires.records.withLock { $0 }.filter { !$0.caughtUp }
        let published = records.map { $0.lateness.seconds * 1000 }.sorted()
        let confirmed = records.map { $0.confirmedAt.timeIntervalSince($0.fireTime) * 1000 }.sorted()
        let connection = try await AMQPConnection.connect(url: broker.resolvedURL, logger: logger)
        let cleanup = try await connection.openChannel()
        let delivered = try await cleanup.deleteQueue(queue)
        _ = try? await cleanup.deleteQueue(WireFormat.deadLetterQueue(for: queue))
        for d in definitions { _ = try? await cleanup.deleteQueue(config.stateQueue(for: d.name)) }
        await connection.close()
        guard !published.isEmpty else { throw BenchError("the scheduler published nothing (is the broker up?)") }

        let ids = Set(records.map(\.fireID))
        print("scheduler: schedules=\(schedules) seconds=\(seconds) fires=\(records.count) unique_ids=\(ids.count) in_queue=\(delivered)")
        print(String(format: "publish lateness (publish - scheduled): p50 %.2f ms, p99 %.2f ms, max %.2f ms   target p99 <= 50 ms   %@",
                     pct(published, 0.5), pct(published, 0.99), published.last!, pct(published, 0.99) <= 50 ? "ok" : "ABOVE TARGET"))
        print(String(format: "confirm lateness (confirm - scheduled): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                     pct(confirmed, 0.5), pct(confirmed, 0.99), confirmed.last!))
        let fireSeconds = Set(records.map { Int($0.fireTime.timeIntervalSince1970) }).sorted()
        if let worst = records.max(by: { $0.lateness < $1.lateness }),
           let k = fireSeconds.firstIndex(of: Int(worst.fireTime.timeIntervalSince1970)) {
            print(String(format: "worst fire: %@, %.2f ms late (fire second %d of %d)", worst.fireID, worst.lateness.seconds * 1000,
                         k + 1, fireSeconds.count))
        }
        if json {
            let doc: [String: Double] = [
                "schedules": Double(schedules), "seconds": Double(seconds), "fires": Double(records.count),
                "publish_p50_ms": pct(published, 0.5), "publish_p99_ms": pct(published, 0.99), "publish_max_ms": published.last!,
                "confirm_p50_ms": pct(confirmed, 0.5), "confirm_p99_ms": pct(confirmed, 0.99), "confirm_max_ms": confirmed.last!,
            ]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(doc), as: UTF8.self))
        }
    }

    /// The `p` quantile of sorted samples (nearest rank).
    private func pct(_ sorted: [Double], _ p: Double) -> Double {
        sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
}
