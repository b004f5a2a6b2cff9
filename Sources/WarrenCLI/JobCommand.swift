import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenStore

/// `warren job show|list`: look jobs up in the job store.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job", abstract: "Look jobs up in the job store (WARREN_STORE / WARREN_STORE_FILE).",
        subcommands: [JobShowCommand.self, JobListCommand.self])
}

struct JobShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "A job's state, attempt, progress, result, last error and times ('unknown' if never seen).")

    @Argument(help: "Job id.")
    var id: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        CLILogging.bootstrap()
        let store = try await StoreEnvironment.require("warren job show", logger: Logger(label: "warren.store"))
        let status = try await store.status(id)
        await store.close()
        print(json ? JobStatusText.json(status) : JobStatusText.lines(status))
    }
}

struct JobListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Jobs, most recently changed first.")

    @Option(help: "Only this state (\(JobState.allCases.filter { $0 != .unknown }.map(\.rawValue).joined(separator: ", "))).")
    var state: String?

    @Option(help: "Only this work queue.")
    var queue: String?

    @Option(help: "Only this job name.")
    var name: String?

    @Option(help: "At most this many.")
    var limit: Int = 50

    @Flag(help: "Print JSON lines.")
    var json = false

    func validate() throws {
        if let state, JobState(rawValue: state) == nil { throw ValidationError("unknown state '\(state)'") }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        CLILogging.bootstrap()
        let store = try await StoreEnvironment.require("warren job list", logger: Logger(label: "warren.store"))
        let jobs = try await store.list(JobQuery(state: state.flatMap(JobState.init(rawValue:)), queue: queue, name: name, limit: limit))
        await store.close()
        for s in jobs {
            print(json ? JobStatusText.json(s) : [s.id, s.state.rawValue, s.name ?? "-", s.queue ?? "-", "attempt \(s.attempt)",
                                                   JobStatusText.time(s.updatedAt)].joined(separator: "\t"))
        }
    }
}

/// How `warren job` prints a status.
enum JobStatusText {
    static func json(_ s: JobStatus) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.dateEncodingStrategy = .iso8601
        return (try? e.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func time(_ d: Date?) -> String { d.map { ISO8601DateFormatter().string(from: $0) } ?? "-" }

    static func lines(_ s: JobStatus) -> String {
        guard s.state != .unknown else { return "\(s.id): unknown (never seen by this store, or expired)" }
        var out = ["id:        \(s.id)", "state:     \(s.state.rawValue)", "job:       \(s.name ?? "-")",
                   "queue:     \(s.queue ?? "-")", "attempt:   \(s.attempt)"]
        if let w = s.worker { out.append("worker:    \(w)") }
        if let p = s.progress { out.append("progress:  \(Int((p * 100).rounded()))%\(s.progressMessage.map { " \($0)" } ?? "")") }
        if let r = s.result { out.append("result:    \(r)") }
        if let e = s.lastError { out.append("error:     \(e)") }
        if let d = s.deadReason { out.append("dead:      \(d)") }
        if let k = s.uniqueKey { out.append("unique:    \(k)") }
        out += [("enqueued", s.enqueuedAt), ("run at", s.runAt), ("started", s.startedAt), ("finished", s.finishedAt), ("updated", s.updatedAt)]
            .compactMap { label, d in d.map { "\(label):".padding(toLength: 11, withPad: " ", startingAt: 0) + time($0) } }
        return out.joined(separator: "\n")
    }
}
