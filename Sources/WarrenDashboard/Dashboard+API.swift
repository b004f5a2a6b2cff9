import Foundation
import Hummingbird
import NIOCore
import Warren
import WarrenMetrics

/// The JSON API (documented in docs/dashboard.md); the pages' live updates use `/api/events`.
extension Dashboard {
    /// One live update: what the overview and queues pages refresh.
    struct Update: Encodable {
        var connected: Bool
        var overview: DashboardData.Overview?
        var queues: BrokerStatus?
    }

    struct LetterSummary: Encodable {
        var id, job, error, reason, failedAt, queue: String
        var attempts: Int
    }

    func registerAPI<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.get("/api/overview") { [self] _, _ in Self.json(await data.overview()) }
        group.get("/api/queues") { [self] _, _ in
            do { return Self.json(try await data.queues()) } catch { return Self.jsonError("\(error)", status: .serviceUnavailable) }
        }
        group.get("/api/workers") { [self] _, _ in Self.json(data.workers()) }
        group.get("/api/consumers") { [self] _, _ in
            switch await data.consumers() {
            case .success(let list): return Self.json(list.map { ["queue": $0.queue, "peer_host": $0.peerHost ?? "", "connection": $0.connectionName ?? ""] })
            case .failure(let e): return Self.jsonError("\(e)", status: .serviceUnavailable)
            }
        }
        group.get("/api/schedules") { [self] _, _ in Self.json(data.schedules()) }
        group.get("/api/dead-letters") { [self] request, _ in
            let q = Form.query(request)
            do {
                guard let queue = q["queue"] else {
                    return Self.json(try await data.deadLetterQueues().map { ["queue": $0.name, "messages": "\($0.messageCount)"] })
                }
                let size = min(500, max(1, Int(q["per_page"] ?? "") ?? configuration.pageSize))
                let pageNumber = max(1, Int(q["page"] ?? "") ?? 1)
                let p = try await desk.page(queue: DeadLetterQueues.deadLetterQueue(for: queue), filter: try DeadLetterFilter(fields: q),
                                            offset: (pageNumber - 1) * size, limit: size)
                return Self.json(["page": pageNumber, "has_more": p.hasMore ? 1 : 0] as [String: Int], letters: p.letters)
            } catch {
                return Self.jsonError("\(error)", status: .badRequest)
            }
        }
        group.get("/api/dead-letters/show") { [self] request, _ in
            let q = Form.query(request)
            guard let queue = q["queue"], let id = q["id"] else { return Self.jsonError("queue and id are required", status: .badRequest) }
            let found = try await desk.find(id: id, queue: DeadLetterQueues.deadLetterQueue(for: queue))
            guard !found.isEmpty else { return Self.jsonError("not found", status: .notFound) }
            return Self.json(found.map(DeadLetterRecord.init))
        }
        for action in ["requeue", "purge"] {
            group.post("/api/dead-letters/\(action)") { [self] request, _ in
                let f = try await Form.body(request)
                guard let s = session(request), request.headers[.init("X-CSRF-Token")!] == s.csrf || f["csrf"] == s.csrf else {
                    return Self.jsonError("missing or wrong CSRF token", status: .forbidden)
                }
                do {
                    let (queue, filter, delay) = try selection(f)
                    let r = action == "purge" ? try await desk.purge(queue: queue, filter: filter)
                                              : try await desk.requeue(queue: queue, filter: filter, delay: delay)
                    return Self.json(r)
                } catch {
                    return Self.jsonError("\(error)", status: .badRequest)
                }
            }
        }
        group.get("/api/events") { [self] request, _ in
            let page = Form.query(request)["page"] ?? "overview"
            let interval = configuration.refreshInterval
            let body = ResponseBody { [self] writer in
                // Bounded: at most an hour per stream (EventSource reconnects), ends when the client goes.
                for _ in 0..<Int(3600 / interval) {
                    let update = Update(connected: data.connection.isConnected,
                                        overview: page == "overview" ? await data.overview() : nil,
                                        queues: page == "queues" ? try? await data.queues() : nil)
                    let e = JSONEncoder()
                    e.dateEncodingStrategy = .iso8601
                    let json = String(decoding: (try? e.encode(update)) ?? Data("{}".utf8), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "data: \(json)\n\n"))
                    try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
        }
    }

    /// A page of dead letters as JSON: `meta` fields plus `letters`.
    static func json(_ meta: [String: Int], letters: [DeadLetter]) -> Response {
        struct Page: Encodable {
            var page: Int
            var hasMore: Bool
            var letters: [LetterSummary]
        }
        return json(Page(page: meta["page"] ?? 1, hasMore: meta["has_more"] == 1, letters: letters.map {
            LetterSummary(id: $0.id, job: $0.job, error: DeadLetterText.error($0), reason: $0.reason ?? "",
                          failedAt: DeadLetterText.time($0.failedAt), queue: $0.deadLetterQueue, attempts: $0.attempts)
        }))
    }
}
