import Foundation
import WarrenAMQP

/// The garbage-collection state a classic queue's Erlang process is in when a drain starts, read (never
/// changed) through `deploy/rabbitmq-local.sh ctl eval` when the broker is the local one.
///
/// Why: on RabbitMQ 3.10 a drain of a large backlog is "dear" (the queue process runs a full collection
/// every other collection, 40-61 per 50,000-job drain, and costs the broker about twice the CPU per
/// message) exactly when, at the drain's start, the off-heap binaries its backlog holds outnumber its
/// old binary heap's limit (`bin_old_vheap_block_size`); otherwise it is "cheap" and runs none. The fill
/// that built the backlog decides it, not the consumer (docs/performance.md, "Which drains are dear is
/// decided before they start"). Reading it lets a round's ratio be compared only between drains that
/// started alike.
struct QueueProcessState: Sendable {
    /// Words of off-heap binaries the process references (young and old heap).
    var binaryWords: Int
    /// The old binary heap's limit in words: a minor collection that promotes more than this is followed
    /// by a full one.
    var limitWords: Int

    /// About the share of the drain run in the cycle of full collections: a full collection resets the limit
    /// to the floor, and the cycle lasts while what is left of the backlog's binaries exceeds it, so from the
    /// start until they have fallen to the limit (0 when they start under it).
    var cycleShare: Double { binaryWords > 0 ? max(0, 1 - Double(limitWords) / Double(binaryWords)) : 0 }

    /// More than a quarter of the drain in the cycle: the broker's CPU per message shows it (dear drains
    /// measured 0.44-0.81 of the drain in the cycle in the benchmark's runs; a limit within a few words of
    /// the backlog, as with `+hmbs 1048576` and 50,000 `record` jobs, is not dear).
    var cycleProne: Bool { cycleShare > 0.25 }

    /// Puts the state in a round's notes under `name`: `NAME_start_dear` (1 or 0), `NAME_start_cycle_share`,
    /// `NAME_start_binary_words`, `NAME_start_limit_words`.
    func note(as name: String, into notes: inout [String: Double]) {
        notes["\(name)_start_dear"] = cycleProne ? 1 : 0
        notes["\(name)_start_cycle_share"] = cycleShare
        notes["\(name)_start_binary_words"] = Double(binaryWords)
        notes["\(name)_start_limit_words"] = Double(limitWords)
    }

    /// Each round's start state of the drain noted as `name`: "D" dear, "c" cheap, "-" not read.
    static func letters(_ report: BenchReport, _ name: String) -> String {
        String(report.notes.map { n in n["\(name)_start_dear"].map { $0 == 1 ? "D" : "c" } ?? "-" })
    }

    /// The median over the rounds whose drains `a` and `b` both started in the same state of the ratio of
    /// their rates, and how many rounds that was.
    static func alikeRatio(_ report: BenchReport, _ a: String, _ b: String) -> (median: Double?, rounds: Int) {
        let ratios = zip(report.rounds, report.notes).compactMap { figures, notes -> Double? in
            guard let x = notes["\(a)_start_dear"], x == notes["\(b)_start_dear"],
                  let ra = figures[a], let rb = figures[b], rb > 0 else { return nil }
            return ra / rb
        }
        return (median(ratios), ratios.count)
    }

    /// The summary's lines on start states, for a CLI drain `cli` against rawc's drains `bare` and `same`.
    static func summary(_ report: BenchReport, cli: String, bare: String, same: String) -> String {
        guard report.notes.contains(where: { $0["\(cli)_start_dear"] != nil }) else {
            return "  the queue processes' start states were not read (no local broker: its pid file or control script not found)"
        }
        func alike(_ other: String) -> String {
            let (m, n) = alikeRatio(report, cli, other)
            return "\(m.map { String(format: "%.2fx", $0) } ?? "-") over \(n) of \(report.rounds.count) rounds"
        }
        return """
              the queue process at each drain's start, by round (D: dear, its backlog's binaries so far over its old binary heap's limit that full collections run through more than a quarter of the drain; c: cheap): \(cli) \(letters(report, cli)), \(bare) \(letters(report, bare)), \(same) \(letters(report, same))
              the rounds whose two drains started alike: \(cli)/\(bare) \(alike(bare)), \(cli)/\(same) \(alike(same))
            """
    }
}

/// Reads ``QueueProcessState`` of a queue on the local broker (`deploy/rabbitmq-local.sh`, whose node and
/// directory come from `WARREN_RABBIT_DIR` / `WARREN_RABBIT_NODE` as for the script itself).
struct QueueProcessProbe: Sendable {
    /// The script run as `<script> ctl eval <expression>`.
    let script: String
    /// The queue's virtual host.
    let vhost: String

    /// The probe for the broker at `url`, when `script` exists and the broker is local (its pid file is
    /// readable, as for the CPU figures); nil otherwise, and the benchmark prints no state.
    static func local(script: String, url: String, brokerPID: Int32?) -> QueueProcessProbe? {
        guard brokerPID != nil, FileManager.default.isExecutableFile(atPath: script),
              let configuration = try? AMQPConfiguration(url: url) else { return nil }
        return QueueProcessProbe(script: script, vhost: configuration.virtualHost)
    }

    /// The state of `queue`'s process now; nil when the broker does not answer in the expected form.
    /// Costs one `rabbitmqctl` start (about a second of CPU); the callers read it after the settle and before the
    /// drain starts, so its CPU falls outside the measured interval. Blocks the calling thread.
    func read(queue: String) -> QueueProcessState? {
        guard let expression = Self.expression(queue: queue, vhost: vhost),
              let (status, output) = try? RawC.runTool(script, ["ctl", "eval", expression], environment: nil),
              status == 0 else { return nil }
        return Self.parse(output)
    }

    /// The Erlang expression printing `<<"young old limit">>` in words; nil for a name that would need quoting
    /// (the benchmark's own names never do).
    static func expression(queue: String, vhost: String) -> String? {
        let safe = { (s: String) in s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-/".contains($0)) } }
        guard safe(queue), safe(vhost) else { return nil }
        return """
            {ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"\(vhost)">>, queue, <<"\(queue)">>)), \
            {garbage_collection_info, I} = erlang:process_info(amqqueue:get_pid(Q), garbage_collection_info), \
            list_to_binary(io_lib:format("~b ~b ~b", [proplists:get_value(K, I) || \
            K <- [bin_vheap_size, bin_old_vheap_size, bin_old_vheap_block_size]])).
            """
    }

    /// Parses the eval's answer, `<<"young old limit">>`.
    static func parse(_ text: String) -> QueueProcessState? {
        guard let open = text.range(of: "<<\""), let close = text.range(of: "\">>", range: open.upperBound..<text.endIndex) else { return nil }
        let words = text[open.upperBound..<close.lowerBound].split(separator: " ").compactMap { Int($0) }
        guard words.count == 3 else { return nil }
        return QueueProcessState(binaryWords: words[0] + words[1], limitWords: words[2])
    }
}
