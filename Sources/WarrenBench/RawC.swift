import ArgumentParser
import Foundation
import WarrenAMQP

/// Where to find the plain-C baseline's source.
struct RawCOptions: ParsableArguments {
    @Option(help: "Path of rawc.c (default: $WARREN_RAWC_SOURCE, else <repo>/../shared/bench/rawc.c).")
    var rawcSource: String?
}

/// The plain-C librabbitmq-c baseline (`shared/bench/rawc.c`): compiled once per source version into a cache
/// directory, then run as a child process.
///
///     rawc fill  QUEUE N [BYTES] [WINDOW]   persistent publishes with confirms, WINDOW outstanding
///     rawc drain QUEUE N [PREFETCH]         consume N, one basic.ack each (clock starts at the first message)
///
/// rawc always logs in as guest/guest on vhost `/`; only host and port are taken from the broker URL
/// (through its `AMQP_HOST`/`AMQP_PORT` environment).
struct RawC: Sendable {
    /// One run's result, parsed from rawc's "<mode> N msgs in S s = R msg/s".
    struct Result: Sendable, Codable {
        var messages: Int
        var seconds: Double
        var rate: Double
    }

    let binary: String
    let host: String
    let port: Int

    /// Finds rawc.c, compiles it unless a binary built from the same source is cached, and checks the URL.
    static func prepare(options: RawCOptions, url: String) throws -> RawC {
        try prepare(source: try locateSource(options.rawcSource), url: url)
    }

    /// The wire-format control `scripts/bench/cjobs.c` (same command line and output as `rawc fill`, but
    /// publishing Warren jobs through the `warren` exchange), compiled like rawc.
    static func prepareJobsControl(url: String) throws -> RawC {
        try prepare(source: try findInRepo("scripts/bench/cjobs.c"), url: url)
    }

    private static func prepare(source: String, url: String) throws -> RawC {
        let config: AMQPConfiguration
        do { config = try AMQPConfiguration(url: url) } catch { throw BenchError("bad broker URL: \(error)") }
        guard let endpoint = config.endpoints.first else { throw BenchError("the broker URL names no host") }
        if config.user != "guest" || config.password != "guest" || config.virtualHost != "/" || config.tls != nil {
            Bench.progress("warning: rawc always connects as guest/guest to vhost / over plain TCP; the URL asks otherwise")
        }
        return RawC(binary: try compile(source), host: endpoint.host, port: endpoint.port)
    }

    /// `--rawc-source`, else `WARREN_RAWC_SOURCE`, else `<repo>/../shared/bench/rawc.c`, where the repo is the
    /// current directory (scripts run from the repo root) or the one this file was compiled in.
    static func locateSource(_ explicit: String?) throws -> String {
        if let path = explicit ?? ProcessInfo.processInfo.environment["WARREN_RAWC_SOURCE"] {
            guard FileManager.default.isReadableFile(atPath: path) else { throw BenchError("rawc source not found: \(path)") }
            return path
        }
        return try findInRepo("../shared/bench/rawc.c", hint: "; pass --rawc-source or set WARREN_RAWC_SOURCE")
    }

    /// The first readable `<repo>/<relative>`, where the repo is the current directory (scripts run from the
    /// repo root) or the one this file was compiled in.
    private static func findInRepo(_ relative: String, hint: String = "") throws -> String {
        let compiledRepo = URL(fileURLWithPath: #filePath)  // <repo>/Sources/WarrenBench/RawC.swift
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let candidates = [FileManager.default.currentDirectoryPath, compiledRepo].map {
            URL(fileURLWithPath: $0).appendingPathComponent(relative).standardizedFileURL.path
        }
        for path in candidates where FileManager.default.isReadableFile(atPath: path) { return path }
        let name = (relative as NSString).lastPathComponent
        throw BenchError("\(name) not found (tried \(candidates.joined(separator: ", ")))\(hint)")
    }

    /// Compiles with `cc -O2 -o <cache>/rawc rawc.c -lrabbitmq`, keyed by a hash of the source.
    static func compile(_ source: String) throws -> String {
        guard let text = FileManager.default.contents(atPath: source) else { throw BenchError("cannot read \(source)") }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in text { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let dir = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("warren-bench-rawc-\(getuid())/\(String(hash, radix: 16))")
        let binary = dir.appendingPathComponent("rawc").path
        if FileManager.default.isExecutableFile(atPath: binary) { return binary }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let partial = binary + ".\(getpid()).tmp"
        let (status, output) = try runTool("/usr/bin/env", ["cc", "-O2", "-o", partial, source, "-lrabbitmq"], environment: nil)
        guard status == 0 else { throw BenchError("compiling \(source) failed (\(status)):\n\(output)") }
        guard rename(partial, binary) == 0 else { throw BenchError("cannot move \(partial) into place") }
        Bench.progress("compiled \(source) -> \(binary)")
        return binary
    }

    func fill(queue: String, count: Int, bytes: Int, window: Int) async throws -> Result {
        try await run(["fill", queue, "\(count)", "\(bytes)", "\(window)"])
    }

    func drain(queue: String, count: Int, prefetch: Int) async throws -> Result {
        try await run(["drain", queue, "\(count)", "\(prefetch)"])
    }

    /// `cjobs fill QUEUE N WINDOW` (for the binary built by ``prepareJobsControl(url:)``).
    func fillJobs(queue: String, count: Int, window: Int) async throws -> Result {
        try await run(["fill", queue, "\(count)", "\(window)"])
    }

    /// `cjobs move SRC DST N PREFETCH` (for the binary built by ``prepareJobsControl(url:)``).
    func move(from source: String, to destination: String, count: Int, prefetch: Int) async throws -> Result {
        try await run(["move", source, destination, "\(count)", "\(prefetch)"])
    }

    /// Runs rawc off the cooperative pool and parses its result line.
    private func run(_ arguments: [String]) async throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env["AMQP_HOST"] = host
        env["AMQP_PORT"] = "\(port)"
        let binary = self.binary
        let environment = env
        let (status, output) = try await withCheckedThrowingContinuation { (cont: CheckedContinuation<(Int32, String), any Error>) in
            Thread.detachNewThread {
                do { cont.resume(returning: try Self.runTool(binary, arguments, environment: environment)) } catch {
                    cont.resume(throwing: error)
                }
            }
        }
        guard status == 0, let result = Self.parse(output) else {
            throw BenchError("rawc \(arguments.joined(separator: " ")) failed (exit \(status)):\n\(output)")
        }
        return result
    }

    /// Parses "<mode> N msgs in S s = R msg/s".
    static func parse(_ output: String) -> Result? {
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ")
            // fill 20000 msgs in 1.234 s = 16207 msg/s
            guard words.count >= 9, words[2] == "msgs", words[3] == "in", words[6] == "=", words[8] == "msg/s",
                  let n = Int(words[1]), let s = Double(words[4]), let r = Double(words[7]) else { continue }
            return Result(messages: n, seconds: s, rate: r)
        }
        return nil
    }

    /// Runs a program to completion, returning its exit status and combined output. Blocks the calling thread.
    static func runTool(_ path: String, _ arguments: [String], environment: [String: String]?) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if let environment { p.environment = environment }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
