import Foundation
import Warren
import WarrenAMQP

/// A fixed-rate feed of the CLI drain's `record` jobs (``CLIWorkerDrain/arguments(file:_:)``), for the `paced`
/// phase of `warren-bench jobs`: the consumer then works at the rate the feed sets, in small bursts, whatever
/// state the broker is in. Every millisecond it publishes, with confirms, the jobs due by then; a tick that
/// runs late is caught up by the next one.
///
/// A drain of a full queue runs as fast as the broker delivers, and that swings from round to round; the
/// consumer's CPU per job swings with it (small bursts cost more per job than a full buffer). Fed at a fixed
/// rate, the CLI worker and `rawc drain` are compared in the same regime.
struct PacedFeed: Sendable {
    /// Jobs per second.
    let rate: Double
    static let tick: Duration = .milliseconds(1)

    /// Publishes `count` `record` jobs naming `file` to `queue` (of `topology`) at ``rate``.
    func run(connection: AMQPConnection, topology: Topology, queue: String, file: String, count: Int) async throws {
        let producer = try await JobProducer(connection: connection, topology: topology)
        do { try await feed(producer, queue: queue, file: file, count: count) } catch {
            await producer.channel.close()
            throw error
        }
        await producer.channel.close()
    }

    private func feed(_ producer: JobProducer, queue: String, file: String, count: Int) async throws {
        let run = UUID().uuidString.lowercased().prefix(8)
        let start = ContinuousClock.now
        var sent = 0
        var next = start
        while sent < count {
            let due = min(count, Int((ContinuousClock.now - start).seconds * rate) + 1)
            if due > sent {
                let requests = (sent..<due).map { i in
                    JobRequest(name: "record", arguments: CLIWorkerDrain.arguments(file: file, i),
                               options: EnqueueOptions(queue: queue, jobID: CLIWorkerDrain.jobID(i, run: run)))
                }
                let failed = Bench.failures(await producer.enqueue(batch: requests))
                guard failed == 0 else { throw BenchError("\(failed) paced enqueues failed") }
                sent = due
            }
            next = max(next + Self.tick, .now)
            try await Task.sleep(until: next, clock: .continuous)
        }
    }

    /// Waits until `queue` has a consumer (the feed starts only then, so that nothing piles up first).
    static func waitForConsumer(_ queue: String, on channel: AMQPChannel, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await channel.inspectQueue(queue).consumerCount > 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("no consumer on \(queue) after \(timeout)")
    }
}
