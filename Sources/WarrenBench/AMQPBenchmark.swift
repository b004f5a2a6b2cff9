import ArgumentParser
import Foundation
import WarrenAMQP

/// `warren-bench amqp`: WarrenAMQP's publish-with-confirms and consume-with-acks throughput against rawc, the
/// same operations in plain C on librabbitmq-c, interleaved round by round against the same broker.
///
/// Each round: (1) rawc fill into a fresh durable queue, (2) rawc drain it, (3) Warren publishes `count`
/// persistent messages with confirms into another fresh durable queue, timed from the first publish to the last
/// confirm, every outcome checked to be `.acked`; (4) Warren drains it with `--prefetch`, awaiting one `ack()`
/// per delivery, timed from the first delivery until the last ack is written (a mailbox round trip after the
/// last `ack()` returns: the I/O thread writes coalesced acks before it runs later jobs). Queues are deleted.
struct AMQPBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp",
        abstract: "Publish (confirms) and drain (acks) throughput of WarrenAMQP vs plain librabbitmq-c."
    )

    enum PublishMode: String, ExpressibleByArgument, CaseIterable, Sendable {
        /// One `publish([OutgoingMessage])` call holding every message.
        case single
        /// Batches of `--batch`, one after another (the window drains between batches).
        case sequential
        /// Up to `--depth` batches of `--batch` in flight at once.
        case pipelined
        /// Every batch of `--batch` submitted at once from a task group.
        case concurrent
    }

    enum AckMode: String, ExpressibleByArgument, CaseIterable, Sendable {
        case await
        case concurrent
    }

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var rawcOptions: RawCOptions

    @Option(help: "Messages per phase.") var count = 20_000
    @Option(help: "Body size in bytes.") var size = 100
    @Option(help: "Confirm window (unconfirmed publishes in flight).") var window = 1000
    @Option(help: "Consumer prefetch (basic.qos).") var prefetch = 200
    @Option(help: "Rounds; the table shows each and the median.") var rounds = 3
    @Option(help: "How Warren's publishes are fed to the batch API: \(PublishMode.allCases.map(\.rawValue).joined(separator: ", ")).")
    var publishMode: PublishMode = .pipelined
    @Option(help: "Messages per publish batch (default: the confirm window).") var batch: Int?
    @Option(help: "Batches in flight with --publish-mode pipelined.") var depth = 2
    @Option(help: "How Warren's drain acks: await (one awaited ack() per delivery, in order, like a sequential worker) or concurrent (each ack() in a child task, like a worker running many jobs at once).")
    var ackMode: AckMode = .await
    @Flag(help: "Skip the rawc phases (Warren only; no ratios).") var skipRawc = false
    @Flag(help: "Skip the Warren phases (rawc only; no ratios).") var skipWarren = false
    @Flag(help: "Also print the results as JSON.") var json = false

    func validate() throws {
        guard count > 0, size >= 0, window > 0, rounds > 0, depth > 0, (batch ?? 1) > 0 else {
            throw ValidationError("count, window, rounds, depth and batch must be positive; size non-negative")
        }
        guard (1...Int(UInt16.max)).contains(prefetch) else { throw ValidationError("prefetch must be 1...65535") }
    }

    func run() async throws {
        let url = broker.resolvedURL
        let rawc = skipRawc ? nil : try RawC.prepare(options: rawcOptions, url: url)
        let batchSize = batch ?? window
        var report = BenchReport(
            benchmark: "warren-bench amqp",
            parameters: [("count", "\(count)"), ("size", "\(size)"), ("window", "\(window)"), ("prefetch", "\(prefetch)"),
                         ("rounds", "\(rounds)"), ("publish-mode", publishMode.rawValue), ("batch", "\(batchSize)"),
                         ("depth", "\(depth)"), ("ack-mode", ackMode.rawValue), ("broker", (try? AMQPConfiguration(url: url).description) ?? "?")],
            metrics: ["rawc fill", "rawc drain", "warren publish", "warren drain"],
            ratios: [BenchReport.Ratio(name: "publish", numerator: "warren publish", denominator: "rawc fill", target: 0.9),
                     BenchReport.Ratio(name: "drain", numerator: "warren drain", denominator: "rawc drain", target: 0.9)])

        let admin = try await AMQPConnection.connect(url: url)
        let adminChannel = try await admin.openChannel()
        for round in 1...rounds {
            var values: [String: Double] = [:]
            var notes: [String: Double] = [:]
            if let rawc {
                let q = Bench.uniqueQueue("rawc")
                do {
                    let cpu0 = CPUTime.children()
                    let fill = try await rawc.fill(queue: q, count: count, bytes: size, window: window)
                    let cpu1 = CPUTime.children()
                    Bench.progress("round \(round): rawc fill    \(String(format: "%8.0f", fill.rate)) msg/s (\(String(format: "%.3f", fill.seconds)) s)")
                    let drain = try await rawc.drain(queue: q, count: count, prefetch: prefetch)
                    notes["rawc fill cpu s (whole run)"] = cpu1 - cpu0
                    notes["rawc drain cpu s (whole run)"] = CPUTime.children() - cpu1
                    Bench.progress("round \(round): rawc drain   \(String(format: "%8.0f", drain.rate)) msg/s (\(String(format: "%.3f", drain.seconds)) s)")
                    values["rawc fill"] = fill.rate
                    values["rawc drain"] = drain.rate
                } catch {
                    _ = try? await adminChannel.deleteQueue(q)
                    throw error
                }
                _ = try? await adminChannel.deleteQueue(q)
            }
            if !skipWarren {
                let q = Bench.uniqueQueue("warren")
                do {
                    let pub = try await warrenPublish(url: url, queue: q, batchSize: batchSize)
                    Bench.progress("round \(round): warren publish \(String(format: "%6.0f", pub.rate)) msg/s (\(String(format: "%.3f", pub.seconds)) s)")
                    let drain = try await warrenDrain(url: url, queue: q)
                    Bench.progress("round \(round): warren drain \(String(format: "%8.0f", drain.rate)) msg/s (\(String(format: "%.3f", drain.seconds)) s)")
                    values["warren publish"] = pub.rate
                    values["warren drain"] = drain.rate
                    notes.merge(pub.notes) { $1 }
                    notes.merge(drain.notes) { $1 }
                } catch {
                    _ = try? await adminChannel.deleteQueue(q)
                    throw error
                }
                _ = try? await adminChannel.deleteQueue(q)
            }
            report.addRound(values, notes: notes)
        }
        await admin.close()

        print(report.render())
        if json { print(report.json()) }
    }

    struct Timed {
        var seconds: Double
        var rate: Double
        var notes: [String: Double]
    }

    /// Publishes `count` persistent messages with confirms; the clock runs from the first publish call to the
    /// last outcome, and every outcome must be `.acked`.
    func warrenPublish(url: String, queue: String, batchSize: Int) async throws -> Timed {
        try await Bench.withConnection(url: url) { try await publishPhase($0, queue: queue, batchSize: batchSize) }
    }

    private func publishPhase(_ connection: AMQPConnection, queue: String, batchSize: Int) async throws -> Timed {
        let channel = try await connection.openChannel(confirmWindow: window)
        try await channel.declareQueue(queue, durable: true, recordForRecovery: false)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let properties = BasicProperties(contentType: "application/octet-stream", persistent: true)
        let message = OutgoingMessage(routingKey: queue, properties: properties, body: body)
        let batches: [[OutgoingMessage]] = stride(from: 0, to: count, by: batchSize).map {
            Array(repeating: message, count: min(batchSize, count - $0))
        }

        let clock = ContinuousClock()
        let cpuStart = CPUTime.process()
        let start = clock.now
        var firstBatchDone: Duration?
        var acked = 0
        var failures: [String] = []
        func tally(_ outcomes: [Result<PublishOutcome, AMQPError>]) {
            if firstBatchDone == nil { firstBatchDone = clock.now - start }
            for outcome in outcomes {
                if case .success(.acked) = outcome { acked += 1 } else if failures.count < 5 { failures.append("\(outcome)") }
            }
        }
        switch publishMode {
        case .single:
            tally(await channel.publish(batches.flatMap { $0 }))
        case .sequential:
            for b in batches { tally(await channel.publish(b)) }
        case .pipelined:
            try await withThrowingTaskGroup(of: [Result<PublishOutcome, AMQPError>].self) { group in
                var next = 0
                func submit() {
                    let b = batches[next]
                    next += 1
                    group.addTask { await channel.publish(b) }
                }
                while next < min(depth, batches.count) { submit() }
                while let outcomes = try await group.next() {
                    tally(outcomes)
                    if next < batches.count { submit() }
                }
            }
        case .concurrent:
            await withTaskGroup(of: [Result<PublishOutcome, AMQPError>].self) { group in
                for b in batches { group.addTask { await channel.publish(b) } }
                for await outcomes in group { tally(outcomes) }
            }
        }
        let elapsed = Bench.seconds(clock.now - start)
        let cpu = CPUTime.process() - cpuStart
        guard acked == count else {
            throw BenchError("warren publish: \(acked) of \(count) acked; first failures: \(failures.joined(separator: "; "))")
        }
        let inQueue = try await channel.inspectQueue(queue).messageCount
        guard inQueue == count else { throw BenchError("warren publish: queue holds \(inQueue) messages, expected \(count)") }
        return Timed(seconds: elapsed, rate: Double(count) / elapsed,
                     notes: ["publish first batch s": firstBatchDone.map(Bench.seconds) ?? 0, "publish cpu s": cpu])
    }

    /// Consumes `count` messages, awaiting one `ack()` each; the clock runs from the first delivery until the
    /// I/O thread has written the last (coalesced) ack.
    func warrenDrain(url: String, queue: String) async throws -> Timed {
        try await Bench.withConnection(url: url) { try await drainPhase($0, queue: queue) }
    }

    private func drainPhase(_ connection: AMQPConnection, queue: String) async throws -> Timed {
        let channel = try await connection.openChannel()
        try await channel.qos(prefetchCount: UInt16(prefetch))
        let consumer = try await channel.consume(queue: queue)
        var iterator = consumer.makeAsyncIterator()
        let clock = ContinuousClock()
        var start: ContinuousClock.Instant?
        var waitingForDeliveries = Duration.zero
        var inAck = Duration.zero
        var received = 0
        var bytes = 0
        var cpuStart = 0.0
        /// The next delivery: waits for it (timing the wait after the first), counts it and its bytes.
        func nextDelivery() async throws -> AMQPDelivery {
            let before = clock.now
            guard let delivery = try await iterator.next() else {
                throw BenchError("warren drain: the consumer stream ended after \(received) of \(count)")
            }
            let got = clock.now
            if start == nil { start = got; cpuStart = CPUTime.process() } else { waitingForDeliveries += got - before }
            bytes += delivery.body.count
            received += 1
            return delivery
        }
        switch ackMode {
        case .await:
            while received < count {
                let delivery = try await nextDelivery()
                let got = clock.now
                try await delivery.ack()
                inAck += clock.now - got
            }
        case .concurrent:
            try await withThrowingDiscardingTaskGroup { group in
                while received < count {
                    let delivery = try await nextDelivery()
                    group.addTask { try await delivery.ack() }
                }
            }
        }
        let lastAckReturned = clock.now
        _ = await channel.closeReason  // mailbox round trip: the acks are on the wire when it returns
        let end = clock.now
        let cpu = CPUTime.process() - cpuStart
        let elapsed = Bench.seconds(end - start!)
        await consumer.cancel()
        guard bytes == count * size else { throw BenchError("warren drain: got \(bytes) body bytes, expected \(count * size)") }
        return Timed(seconds: elapsed, rate: Double(count) / elapsed,
                     notes: ["drain wait-for-delivery s": Bench.seconds(waitingForDeliveries),
                             "drain in-ack s": Bench.seconds(inAck),
                             "drain final-flush s": Bench.seconds(end - lastAckReturned),
                             "drain cpu s": cpu])
    }
}
