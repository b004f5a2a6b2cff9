import ArgumentParser
import Foundation
import Warren

/// `warren-bench decode`: decoding a job's arguments (a realistic body: five fields, about 200 bytes) into a
/// `Decodable` struct, by the ways at hand, in one process, alternating order over rounds. Figures are the
/// thread's CPU time per decode (`CLOCK_THREAD_CPUTIME_ID`: steady on a loaded machine, where wall time is not)
/// and ratios against Foundation's `JSONDecoder` from a copied `Data` (Warren's path before). Two more ways
/// read only the field the `record` job reads (`file`) from the same body, as `JSONDecoder` and as Warren.
struct DecodeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Job argument decoding: JSONDecoder and alternatives.")

    @Option(help: "Decodes per measurement.") var count = 200_000
    @Option(help: "Rounds (medians are reported); the order of the ways alternates.") var rounds = 7

    struct Order: Decodable, JobParameters {
        static let jobName = "order"
        var file: String
        var customer: String
        var order: Int
        var amount_cents: Int
        var note: String
        var tags: [String]
    }

    /// What the `record` reference job reads of the same body.
    struct Record: Decodable, JobParameters {
        static let jobName = "record"
        var file: String
    }

    func run() async throws {
        let body = Array(#"{"file":"/tmp/warren-bench-1a2b3c4d/record.txt","customer":"cus_00012345","order":112345,"amount_cents":2344,"note":"deliver to the side door after 6pm, ring twice","tags":["priority","gift"]}"#.utf8)
        let decoder = JSONDecoder()
        let ways: [(String, ([UInt8]) throws -> Int)] = [
            ("jsondecoder_data_copy", { try decoder.decode(Order.self, from: Data($0)).order }),
            ("jsondecoder_no_copy", { bytes in
                try bytes.withUnsafeBytes { raw in
                    try decoder.decode(Order.self, from: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress!),
                                                              count: raw.count, deallocator: .none)).order
                }
            }),
            ("jsondecoder_new_each", { try JSONDecoder().decode(Order.self, from: Data($0)).order }),
            ("jsonserialization", { bytes in
                guard let o = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                      let file = o["file"] as? String, let customer = o["customer"] as? String, let order = o["order"] as? Int,
                      let cents = o["amount_cents"] as? Int, let note = o["note"] as? String, let tags = o["tags"] as? [String]
                else { throw BenchError("bad body") }
                return Order(file: file, customer: customer, order: order, amount_cents: cents, note: note, tags: tags).order
            }),
            ("warren_jsonarguments", { try JSONArguments.decode(Order.self, from: $0).order }),
            ("jsondecoder_one_field", { try decoder.decode(Record.self, from: Data($0)).file.utf8.count }),
            ("warren_one_field", { try JSONArguments.decode(Record.self, from: $0).file.utf8.count }),
        ]
        var perRound: [[String: Double]] = []
        for round in 1...rounds {
            Bench.progress("round \(round)/\(rounds)")
            var figures: [String: Double] = [:]
            let order = round % 2 == 1 ? Array(ways.indices) : Array(ways.indices.reversed())
            for i in order {
                let (name, decode) = ways[i]
                var sink = 0
                let start = Self.threadCPU()
                for _ in 0..<count { sink &+= try decode(body) }
                figures[name] = (Self.threadCPU() - start) / Double(count)
                if sink == 42 { print("") }  // keeps the work
            }
            perRound.append(figures)
        }
        print("decode: body \(body.count) bytes, 6 fields (one_field: reading only `file`); thread CPU ns per decode (median of \(rounds) rounds) and ratio to jsondecoder_data_copy")
        for (name, _) in ways {
            let m = median(perRound.compactMap { $0[name] }) ?? .nan
            let r = median(perRound.compactMap { f in f[name].flatMap { x in f["jsondecoder_data_copy"].map { x / $0 } } }) ?? .nan
            print("  " + name.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: " %8.0f ns   %.2fx", m, r))
        }
    }

    /// CPU time of the calling thread, nanoseconds.
    static func threadCPU() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) * 1e9 + Double(t.tv_nsec)
    }
}
