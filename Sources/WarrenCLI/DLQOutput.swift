import Foundation
import Warren
import WarrenAMQP

/// Output helpers for `warren dlq`: aligned tables, times, JSON, and a progress bar on stderr.
enum DLQOutput {
    /// Prints rows as columns aligned under `header`.
    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    /// A UTC time, ISO-8601 to the second, or `-`.
    static func time(_ date: Date?) -> String { DeadLetterText.time(date) }

    /// `text` cut to `width` characters with an ellipsis, on one line.
    static func clip(_ text: String, _ width: Int) -> String {
        let one = text.replacingOccurrences(of: "\n", with: " ")
        return one.count <= width ? one : String(one.prefix(width - 1)) + "…"
    }

    /// A table row for a dead letter: id, job, error, attempts, failed at.
    static func row(_ l: DeadLetter) -> [String] {
        let error = [l.errorType, l.errorMessage].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        return [l.id.isEmpty ? "-" : l.id, l.job.isEmpty ? "-" : l.job, clip(error.isEmpty ? (l.reason ?? "-") : error, 60),
                "\(l.attempts)", time(l.failedAt)]
    }

    static let rowHeader = ["ID", "JOB", "ERROR", "ATTEMPTS", "FAILED AT"]

    /// One compact JSON object for a dead letter, for `list --json` (JSON Lines).
    static func summary(_ l: DeadLetter) -> [String: Any] {
        var o: [String: Any] = ["queue": l.deadLetterQueue, "id": l.id, "job": l.job, "attempts": l.attempts, "workQueue": l.workQueue]
        if let v = l.reason { o["reason"] = v }
        if let v = l.errorType { o["errorType"] = v }
        if let v = l.errorMessage { o["errorMessage"] = v }
        if let v = l.failedAt { o["failedAt"] = time(v) }
        return o
    }

    /// Prints a JSON value on one line (keys sorted).
    static func printJSON(_ object: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])) ?? Data("null".utf8)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Prints an `Encodable` as one JSON line (keys sorted, dates ISO-8601).
    static func printJSON(encodable value: some Encodable) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        print(String(decoding: try e.encode(value), as: UTF8.self))
    }

    /// A field value for people: strings quoted, kinds other than string/int64 named.
    static func describe(_ v: FieldValue) -> String { DeadLetterText.value(v) }

    /// A body for people: pretty JSON, else UTF-8 text, else a hex dump.
    static func body(_ bytes: [UInt8]) -> String { DeadLetterText.body(bytes) }

    /// A line on stderr.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// A progress bar with rate and ETA, drawn on stderr only when stderr is a terminal, at most 10 times a second.
final class DLQProgressBar: @unchecked Sendable {  // updated from one task at a time, under `lock`
    private let label: String
    private let enabled = isatty(STDERR_FILENO) == 1
    private let started = Date()
    private var lastDraw = Date.distantPast
    private let lock = NSLock()

    init(label: String) { self.label = label }

    /// Redraws with `done` of `total` (`done` is what the rate counts).
    func update(done: Int, scanned: Int, total: Int, force: Bool = false) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = max(0.001, now.timeIntervalSince(started))
        let fraction = total > 0 ? min(1, Double(scanned) / Double(total)) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let rate = Double(done) / elapsed
        let scanRate = Double(scanned) / elapsed
        let eta = scanRate > 0 ? Double(total - scanned) / scanRate : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let text = String(format: "\r%@ [%@] %d/%d %3.0f%%  %.0f msg/s  ETA %.0fs ", label, bar, scanned, total,
                          fraction * 100, rate, max(0, eta))
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Ends the bar's line.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
