import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// Plain HTTP GETs against a local metrics server.
struct MetricsScraper {
    let port: Int

    struct Response {
        let status: Int
        let body: String
    }

    func get(_ path: String) async throws -> Response {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        return Response(status: (response as? HTTPURLResponse)?.statusCode ?? -1, body: String(decoding: data, as: UTF8.self))
    }

    func metrics() async throws -> ScrapedMetrics { ScrapedMetrics(text: try await get("/metrics").body) }
}

/// Samples of a Prometheus text page.
struct ScrapedMetrics {
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    let samples: [Sample]

    init(text: String) {
        samples = text.split(whereSeparator: \.isNewline).compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
            else { return nil }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { labels[String(kv[0])] = String(kv[1].dropFirst().dropLast()) }
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }

    /// The value of the one series named `name` whose labels include `labels`; `nil` if absent.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }?.value
    }
}

/// A Sendable Boolean for readiness checks in tests.
final class Flag: Sendable {
    private let state = Atomic<Bool>(false)
    var value: Bool { state.load(ordering: .relaxed) }
    func set(_ v: Bool) { state.store(v, ordering: .relaxed) }
}
