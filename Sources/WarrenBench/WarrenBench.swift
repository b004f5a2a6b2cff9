import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP

/// `warren-bench`: throughput benchmarks, each measured against the plain-C librabbitmq-c baseline
/// (`shared/bench/rawc.c`, see RawC.swift) on the same broker, interleaved in one run.
///
/// Always build and run in release mode (`scripts/bench-amqp.sh` does): a debug build measures the compiler.
///
/// Adding a benchmark: write an `AsyncParsableCommand` in its own file, give it `@OptionGroup var broker:
/// BrokerOptions` and `@OptionGroup var rawc: RawCOptions` when it needs them, report through ``BenchReport``
/// (Report.swift), and list it in `subcommands` below.
@main
struct WarrenBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warren-bench",
        abstract: "Throughput benchmarks for Warren, against the plain-C librabbitmq-c baseline.",
        discussion: """
            Build and run in release mode: swift build -c release --product warren-bench && .build/release/warren-bench amqp
            (scripts/bench-amqp.sh does both and starts the local broker).
            Environment: WARREN_URL (broker, default amqp://guest:guest@127.0.0.1:5672/%2F),
            WARREN_RAWC_SOURCE (path of rawc.c, default <repo>/../shared/bench/rawc.c).
            """,
        subcommands: [AMQPBenchmark.self, JobsBenchmark.self, SchedulerBenchmark.self, DLQBenchmark.self, StoreBenchmark.self, DecodeBenchmark.self, WorkflowBenchmark.self, BatchBenchmark.self, LimitsBenchmark.self, OutboxBenchmark.self]
    )
}

/// Which broker to benchmark against. Shared by every subcommand.
struct BrokerOptions: ParsableArguments {
    static let defaultURL = "amqp://guest:guest@127.0.0.1:5672/%2F"

    @Option(help: "Broker URL (default: $WARREN_URL, else \(BrokerOptions.defaultURL)).")
    var url: String?

    @Option(help: "PID of the broker's Erlang VM, to report its CPU per message (default: the one started by deploy/rabbitmq-local.sh, read from $WARREN_RABBIT_DIR/rabbitmq.pid).")
    var brokerPID: Int32?

    /// The broker process whose CPU time can be read, when it runs on this machine.
    var resolvedBrokerPID: Int32? {
        if let brokerPID { return brokerPID }
        let dir = ProcessInfo.processInfo.environment["WARREN_RABBIT_DIR"] ?? "/tmp/warren-rabbitmq"
        guard let text = try? String(contentsOfFile: dir + "/rabbitmq.pid", encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              FileManager.default.fileExists(atPath: "/proc/\(pid)/stat") else { return nil }
        return pid
    }

    @Option(help: "The local broker's control script, run as `SCRIPT ctl eval` to read a queue process's state at each drain's start (read only; default: deploy/rabbitmq-local.sh under the current directory; the state is not read when the broker's pid is unknown).")
    var brokerControl = "deploy/rabbitmq-local.sh"

    /// Reads queue process states on the local broker; nil for a broker elsewhere.
    var queueProcessProbe: QueueProcessProbe? {
        QueueProcessProbe.local(script: brokerControl, url: resolvedURL, brokerPID: resolvedBrokerPID)
    }

    /// The URL to use: the option, else `WARREN_URL`, else the local default.
    var resolvedURL: String {
        url ?? ProcessInfo.processInfo.environment["WARREN_URL"] ?? Self.defaultURL
    }
}

/// What a benchmark against the plain-C baseline starts with: a quiet logger, the broker URL, and rawc built.
struct BaselineRun {
    let logger: Logger
    let url: String
    let rawc: RawC

    init(broker: BrokerOptions, rawcOptions: RawCOptions) throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        self.logger = logger
        url = broker.resolvedURL
        rawc = try RawC.prepare(options: rawcOptions, url: url)
    }
}

/// Small helpers every benchmark uses.
enum Bench {
    /// How many results of a producer's `enqueue(batch:)` are failures.
    static func failures(_ results: [Result<String, WarrenError>]) -> Int {
        results.filter { if case .failure = $0 { true } else { false } }.count
    }

    /// A queue name no other run uses.
    static func uniqueQueue(_ prefix: String) -> String {
        "warren-bench.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Seconds elapsed between two instants of the continuous clock.
    static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) / 1e18
    }

    /// Connects, runs `body`, and closes the connection whether `body` succeeded or threw.
    static func withConnection<T>(url: String, _ body: (AMQPConnection) async throws -> T) async throws -> T {
        try await AMQPConnection.connect(url: url).closing(after: body)
    }

    /// Pauses between measured phases so that the broker's deferred work from the previous one (message-store
    /// clean-up after a drain, queue deletion) is not billed to the next.
    static func settle() async {
        try? await Task.sleep(for: .seconds(2))
    }

    /// A progress line on stderr (stdout carries only the report).
    static func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// A benchmark failure with a readable message.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
