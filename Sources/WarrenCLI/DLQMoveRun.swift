import ArgumentParser
import Foundation
import Warren
import WarrenAMQP

/// Batch size and rate limit for requeue and purge.
struct DLQPacingOptions: ParsableArguments {
    @Option(help: "Most messages per second, e.g. 500/s or 500 (default: as fast as the broker confirms).")
    var rate: String?

    @Option(help: "Messages per confirm batch: also the most a killed run can duplicate.")
    var batch = 500

    func mover(_ connection: AMQPConnection) throws -> DeadLetterMover {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        var perSecond: Double?
        if let rate {
            let number = rate.hasSuffix("/s") ? String(rate.dropLast(2)) : rate
            guard let r = Double(number), r > 0 else { throw ValidationError("--rate must look like 500/s") }
            perSecond = r
        }
        return DeadLetterMover(connection: connection, batchSize: batch, rate: perSecond)
    }
}

/// Runs a requeue or purge over several queues with a progress bar, and reports; also the dry-run preview.
enum DLQMoveRun {
    static func run(_ queues: [QueueInfo], json: Bool, verb: String,
                    _ body: (String, @escaping @Sendable (DeadLetterProgress) -> Void) async throws -> DeadLetterMoveReport) async throws {
        var failed = 0
        for info in queues {
            let bar = DLQProgressBar(label: info.name)
            let report = try await body(info.name) { p in bar.update(done: p.done, scanned: p.scanned, total: p.total) }
            bar.update(done: report.done, scanned: report.scanned, total: max(report.scanned, Int(info.messageCount)), force: true)
            bar.finish()
            failed += report.failed
            if json { try DLQOutput.printJSON(encodable: report); continue }
            print(String(format: "%@: %@ %d of %d selected (%d read) in %.1f s, %.0f msg/s; %d failed",
                         info.name, verb, report.done, report.selected, report.scanned, report.elapsed.seconds, report.rate, report.failed))
            for error in report.errors { print("  error: \(error)") }
        }
        if !json {
            DLQOutput.note("note: each job was confirmed at its destination before it was removed; a run killed midway "
                           + "leaves every job in one queue or the other, with at most one batch in both (same job id)")
        }
        if failed > 0 { throw ExitCode(1) }
    }

    static func preview(_ queues: [QueueInfo], filter: DeadLetterFilter, limit: Int?, json: Bool, connection: AMQPConnection,
                        verb: String, target: (DeadLetter) -> String) async throws {
        var rows: [[String]] = []
        for info in queues {
            try await DeadLetterBrowser(connection: connection).browse(queue: info.name, filter: filter, limit: limit) { letter in
                if json {
                    var o = DLQOutput.summary(letter)
                    o["target"] = target(letter)
                    DLQOutput.printJSON(o)
                } else {
                    rows.append([info.name] + DLQOutput.row(letter) + [target(letter)])
                }
                return true
            }
        }
        if !json {
            DLQOutput.table(["QUEUE"] + DLQOutput.rowHeader + ["TARGET"], rows)
            DLQOutput.note("dry run: \(verb) \(rows.count) jobs; nothing was changed")
        }
    }
}
