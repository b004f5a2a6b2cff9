import Foundation
import Synchronization

/// Runs `rabbitmqctl` for what AMQP 0-9-1 cannot tell (unacknowledged counts, definitions export). The command
/// comes from the environment variable `WARREN_RABBITMQCTL`, split on spaces (e.g.
/// `/usr/lib/rabbitmq/bin/rabbitmqctl -n rabbit@broker` or `deploy/rabbitmq-local.sh ctl`); without it,
/// ``fromEnvironment()`` is `nil` and callers report "n/a".
public struct RabbitMQCtl: Sendable {
    /// The command and its leading arguments.
    public let command: [String]

    /// A runner of `command`.
    public init(command: [String]) { self.command = command }

    /// From `WARREN_RABBITMQCTL`, or `nil` when unset or empty.
    public static func fromEnvironment() -> RabbitMQCtl? {
        let words = (ProcessInfo.processInfo.environment["WARREN_RABBITMQCTL"] ?? "").split(separator: " ").map(String.init)
        return words.isEmpty ? nil : RabbitMQCtl(command: words)
    }

    /// An error from running the command.
    public struct Failure: Error, CustomStringConvertible {
        /// Exit status.
        public var status: Int32
        /// Standard error, trimmed.
        public var stderr: String
        /// For people.
        public var description: String { "rabbitmqctl exited with \(status): \(stderr)" }
    }

    /// Runs `rabbitmqctl ARGS` and returns its standard output; throws ``Failure`` on a non-zero exit.
    public func run(_ arguments: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = command + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let errData = Mutex(Data())
        let errDone = DispatchSemaphore(value: 0)
        let errReader = err.fileHandleForReading
        DispatchQueue.global().async {  // drain stderr alongside stdout so neither pipe fills up
            let d = errReader.readDataToEndOfFile()
            errData.withLock { $0 = d }
            errDone.signal()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        errDone.wait()
        guard p.terminationStatus == 0 else {
            throw Failure(status: p.terminationStatus,
                          stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return data
    }

    /// `list_queues` of `vhost`: per queue name, (ready, unacked, consumers).
    public func queueCounts(vhost: String) throws -> [String: (ready: Int, unacked: Int, consumers: Int)] {
        let text = String(decoding: try run(["list_queues", "-p", vhost, "-q", "--no-table-headers",
                                             "name", "messages_ready", "messages_unacknowledged", "consumers"]), as: UTF8.self)
        var out: [String: (ready: Int, unacked: Int, consumers: Int)] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let f = line.split(separator: "\t").map(String.init)
            guard f.count == 4, let r = Int(f[1]), let u = Int(f[2]), let c = Int(f[3]) else { continue }
            out[f[0]] = (r, u, c)
        }
        return out
    }
}
