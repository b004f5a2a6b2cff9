import ArgumentParser
import Foundation
import Warren

/// `warren dlq export`: dead letters to JSON Lines, the queue left as it was.
struct DLQExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write dead jobs to JSON Lines (headers typed, bodies base64): `import` puts them back byte for byte.")

    @OptionGroup var queues: DLQQueueOptions
    @OptionGroup var selection: DLQFilterOptions

    @Option(name: .shortAndLong, help: "Output file (default: standard output).")
    var output: String = "-"

    @Flag(help: "Take --queue names as exact queue names (export any queue, e.g. a work queue for an audit).")
    var exactQueueNames = false

    func run() async throws {
        let filter = try selection.filter()
        let out: FileHandle
        if output == "-" { out = .standardOutput } else {
            guard FileManager.default.createFile(atPath: output, contents: nil), let h = FileHandle(forWritingAtPath: output) else {
                throw DLQFailure("cannot write \(output)")
            }
            out = h
        }
        let total = try await DLQConnection.with("export") { connection in
            var total = 0
            for info in try await queues.resolve(on: connection, exact: exactQueueNames) {
                var buffer: [UInt8] = []
                let n = try await DeadLetterArchive(connection: connection).export(queue: info.name, filter: filter, limit: selection.limit) { line in
                    buffer += line
                    if buffer.count >= 1 << 20 { try out.write(contentsOf: buffer); buffer.removeAll(keepingCapacity: true) }
                }
                try out.write(contentsOf: buffer)
                total += n
                DLQOutput.note("\(info.name): exported \(n)")
            }
            return total
        }
        if output != "-" { try out.close() }
        DLQOutput.note("exported \(total) messages")
    }
}
