import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Results of a benchmark run: one row per round of msg/s figures, the median row, and warren/baseline
/// ratios checked against their targets. Prints an aligned table, and with `--json` a JSON document too.
struct BenchReport {
    /// `numerator / denominator` of two metrics, measured per round; the median of the per-round ratios is
    /// compared with `target` (rounds are interleaved, so each round's pair ran under the same conditions);
    /// a ratio without a target is shown for information.
    struct Ratio: Sendable {
        var name: String
        var numerator: String
        var denominator: String
        var target: Double?
    }

    var benchmark: String
    /// Settings the run used, printed in order.
    var parameters: [(String, String)]
    /// Metric keys (msg/s), in column order.
    var metrics: [String]
    var ratios: [Ratio]
    /// One dictionary of metric -> msg/s per round.
    var rounds: [[String: Double]] = []
    /// Free-form extra figures per round (e.g. timing splits), shown under the table and in the JSON.
    var notes: [[String: Double]] = []

    init(benchmark: String, parameters: [(String, String)], metrics: [String], ratios: [Ratio]) {
        self.benchmark = benchmark
        self.parameters = parameters
        self.metrics = metrics
        self.ratios = ratios
    }

    mutating func addRound(_ values: [String: Double], notes: [String: Double] = [:]) {
        rounds.append(values)
        self.notes.append(notes)
    }

    func ratio(_ r: Ratio, in round: [String: Double]) -> Double? {
        guard let n = round[r.numerator], let d = round[r.denominator], d > 0 else { return nil }
        return n / d
    }

    var medians: [String: Double] {
        var m: [String: Double] = [:]
        for key in metrics { m[key] = median(rounds.compactMap { $0[key] }) }
        return m
    }

    func medianRatio(_ r: Ratio) -> Double? { median(rounds.compactMap { ratio(r, in: $0) }) }

    /// The aligned table, ratios against targets, and the process's peak RSS.
    func render() -> String {
        var lines: [String] = []
        lines.append("\(benchmark): " + parameters.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        let header = ["round"] + metrics.map { "\($0) msg/s" } + ratios.map { "\($0.name)" }
        var rows: [[String]] = []
        for (i, round) in rounds.enumerated() {
            rows.append(["\(i + 1)"] + metrics.map { format(round[$0]) } + ratios.map { formatRatio(ratio($0, in: round)) })
        }
        let med = medians
        rows.append(["median"] + metrics.map { format(med[$0]) } + ratios.map { formatRatio(medianRatio($0)) })
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, s in
                c == 0 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - s.count) + s
            }.joined(separator: "  ")
        }
        lines.append(line(header))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for (i, row) in rows.enumerated() {
            if i == rows.count - 1 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
            lines.append(line(row))
        }
        lines.append("")
        for r in ratios {
            let value = medianRatio(r)
            let line = "\(r.name) (\(r.numerator) / \(r.denominator)), median of rounds: \(formatRatio(value))"
            guard let target = r.target else {
                lines.append(line)
                continue
            }
            let verdict = value.map { $0 >= target ? "ok" : "BELOW TARGET" } ?? "n/a"
            lines.append(line + "   target >= \(String(format: "%.2fx", target))   \(verdict)")
        }
        let noteKeys = Array(Set(notes.flatMap { $0.keys })).sorted()
        if !noteKeys.isEmpty {
            lines.append("")
            lines.append("details per round:")
            for (i, n) in notes.enumerated() {
                lines.append("  round \(i + 1): " + noteKeys.compactMap { k in n[k].map { "\(k)=\(formatDetail($0))" } }.joined(separator: " "))
            }
        }
        let rss = PeakRSS.current()
        lines.append("")
        lines.append("peak RSS: \(rss / 1024) MiB (this process, getrusage ru_maxrss \(rss) KiB)")
        return lines.joined(separator: "\n")
    }

    /// Machine-readable results.
    func json() -> String {
        struct RatioJSON: Encodable {
            var name: String, numerator: String, denominator: String, target: Double?
            var perRound: [Double?], median: Double?, meetsTarget: Bool?
        }
        struct Doc: Encodable {
            var benchmark: String
            var parameters: [String: String]
            var rounds: [[String: Double]]
            var details: [[String: Double]]
            var median: [String: Double]
            var ratios: [RatioJSON]
            var peakRSSKiB: Int
        }
        let rss = PeakRSS.current()
        let doc = Doc(
            benchmark: benchmark,
            parameters: Dictionary(parameters, uniquingKeysWith: { $1 }),
            rounds: rounds, details: notes, median: medians,
            ratios: ratios.map { r in
                let m = medianRatio(r)
                return RatioJSON(name: r.name, numerator: r.numerator, denominator: r.denominator, target: r.target,
                                 perRound: rounds.map { ratio(r, in: $0) }, median: m, meetsTarget: r.target.flatMap { t in m.map { $0 >= t } })
            },
            peakRSSKiB: rss)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(doc)) ?? Data("{}".utf8), as: UTF8.self)
    }

    private func format(_ v: Double?) -> String { v.map { String(format: "%.0f", $0) } ?? "-" }
    private func formatRatio(_ v: Double?) -> String { v.map { String(format: "%.2fx", $0) } ?? "-" }
    private func formatDetail(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(format: "%.0f", v) : String(format: "%.3f", v)
    }
}

/// Median of a sample (mean of the middle two for an even count); nil when empty.
func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The median of `values` in `format` (e.g. `"%.1f"`), or "-" when there are none.
func medianText(_ values: [Double], format: String) -> String {
    median(values).map { String(format: format, $0) } ?? "-"
}

/// CPU seconds so far of the processes a drain shares the machine with: the broker (when its pid is known)
/// and the local PostgreSQL server (when asked). Read at both ends of a drain.
struct SharedCPU {
    var broker: Double?
    var server: Double?

    static func now(brokerPID: Int32?, server: Bool) -> SharedCPU {
        SharedCPU(broker: brokerPID.flatMap(CPUTime.of(pid:)), server: server ? CPUTime.ofCommand("postgres") : nil)
    }

    /// Microseconds per job of each side from `start` to this reading, where both readings have it.
    func perJob(since start: SharedCPU, jobs: Double) -> SharedCPU {
        func delta(_ a: Double?, _ b: Double?) -> Double? { a.flatMap { a in b.map { ($0 - a) * 1e6 / jobs } } }
        return SharedCPU(broker: delta(start.broker, broker), server: delta(start.server, server))
    }
}

/// CPU time (user + system) from `getrusage`, to tell computing from waiting in a timed phase.
enum CPUTime {
    /// Seconds used by this process so far (all threads).
    static func process() -> Double { seconds(RUSAGE_SELF.rawValue) }
    /// Seconds used by terminated, waited-for children (rawc runs) so far.
    static func children() -> Double { seconds(RUSAGE_CHILDREN.rawValue) }

    /// `getrusage` of `who` (RUSAGE_SELF or RUSAGE_CHILDREN).
    static func usage(_ who: Int32) -> rusage {
        var u = rusage()
        getrusage(__rusage_who_t(who), &u)
        return u
    }

    private static func seconds(_ who: Int32) -> Double {
        let u = usage(who)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6
            + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }

    /// Seconds used by another process (user + system), read from `/proc/PID/stat`; nil when unreadable.
    static func of(pid: Int32) -> Double? { statSeconds("\(pid)", withChildren: false) }

    /// Seconds used by every process named `command` (`/proc/PID/comm`), with their waited-for children
    /// (a PostgreSQL backend that exits is counted in its postmaster's): a local database server's CPU.
    static func ofCommand(_ command: String) -> Double {
        var total = 0.0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where entry.allSatisfy(\.isNumber) {
            guard (try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) == command else { continue }
            total += statSeconds(entry, withChildren: true) ?? 0
        }
        return total
    }

    /// User + system seconds from `/proc/PID/stat` (fields 14 and 15), with the waited-for children's (16
    /// and 17) when asked; nil when unreadable.
    private static func statSeconds(_ pid: String, withChildren: Bool) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after "(comm)": state is field 3, so field N is at index N - 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let wanted = withChildren ? 11...14 : 11...12
        guard fields.count > wanted.upperBound else { return nil }
        var ticks = 0.0
        for i in wanted {
            guard let t = Double(fields[i]) else { return nil }
            ticks += t
        }
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Voluntary context switches (a thread blocking: waiting for work, a lock, the network) from `getrusage`:
/// how often a client went to sleep and had to be woken.
enum ContextSwitches {
    /// This process so far (all threads).
    static func process() -> Double { Double(CPUTime.usage(RUSAGE_SELF.rawValue).ru_nvcsw) }
    /// Terminated, waited-for children (rawc runs) so far.
    static func children() -> Double { Double(CPUTime.usage(RUSAGE_CHILDREN.rawValue).ru_nvcsw) }
}

/// CPU per message of a timed phase, the client's (this process, or rawc as a child) and the broker's when
/// it runs on this machine: steadier figures than msg/s on a shared box, and they say who spent what.
struct PhaseMeter {
    /// Messages per phase.
    let messages: Int
    /// The broker's VM, when local (``BrokerOptions/resolvedBrokerPID``).
    let brokerPID: Int32?

    /// Runs `body`; records `<name>_cpu_us` (client), `<name>_broker_us` and, given `switches`, the
    /// client's voluntary context switches per message `<name>_vcsw` in `notes`.
    func measure<T>(_ name: String, client: () -> Double, switches: (() -> Double)? = nil, into notes: inout [String: Double],
                    _ body: () async throws -> T) async rethrows -> T {
        let broker0 = brokerPID.flatMap(CPUTime.of(pid:))
        let client0 = client()
        let switches0 = switches?()
        let result = try await body()
        notes["\(name)_cpu_us"] = (client() - client0) * 1e6 / Double(messages)
        if let switches, let switches0 { notes["\(name)_vcsw"] = (switches() - switches0) / Double(messages) }
        if let broker0, let broker1 = brokerPID.flatMap(CPUTime.of(pid:)) {
            notes["\(name)_broker_us"] = (broker1 - broker0) * 1e6 / Double(messages)
        }
        return result
    }
}

/// Peak resident set size of this process from `getrusage` (`ru_maxrss`, KiB on Linux). Children are not
/// reported: their counter survives `exec`, so it would include whatever the launching shell ran (the build).
enum PeakRSS {
    static func current() -> Int {
        var me = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &me)
        return Int(me.ru_maxrss)
    }
}
