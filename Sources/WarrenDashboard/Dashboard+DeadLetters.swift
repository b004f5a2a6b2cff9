import Foundation
import Hummingbird
import Warren

extension Dashboard {
    static let filterKeys = ["job", "error_type", "reason", "error", "failed_before", "failed_after", "min_attempts", "max_attempts"]

    func registerDeadLetters<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.get("/dead-letters") { [self] request, _ in
            let q = Form.query(request)
            var v: [String: Any] = ["filter": q]
            do {
                let queues = try await data.deadLetterQueues()
                let current = q["queue"].map(DeadLetterQueues.deadLetterQueue(for:)) ?? queues.first?.name
                v["queues"] = queues.map { ["name": $0.name, "count": $0.messageCount, "current": $0.name == current] as [String: Any] }
                guard let current else { return page("deadLetters", title: "Dead letters", session: session(request), v) }
                v["queue"] = current
                let filter = try DeadLetterFilter(fields: q)
                let pageNumber = max(1, Int(q["page"] ?? "") ?? 1), size = configuration.pageSize
                let p = try await desk.page(queue: current, filter: filter, offset: (pageNumber - 1) * size, limit: size)
                v["letters"] = p.letters.map(Views.letterRow)
                v["from"] = p.letters.isEmpty ? 0 : p.offset + 1
                v["to"] = p.offset + p.letters.count
                v["total"] = queues.first { $0.name == current }.map { Int($0.messageCount) }
                var link = q.filter { Self.filterKeys.contains($0.key) }
                link["queue"] = current
                if pageNumber > 1 { link["page"] = String(pageNumber - 1); v["prev"] = Form.encode(link) }
                if p.hasMore { link["page"] = String(pageNumber + 1); v["next"] = Form.encode(link) }
            } catch {
                v["error"] = "\(error)"
            }
            return page("deadLetters", title: "Dead letters", session: session(request), v)
        }
        group.get("/dead-letters/show") { [self] request, _ in
            let q = Form.query(request)
            guard let queue = q["queue"], let id = q["id"] else { return page("deadLetter", title: "Dead letter", session: session(request), ["error": "queue and id are required"], status: .badRequest) }
            let letters = try await desk.find(id: id, queue: DeadLetterQueues.deadLetterQueue(for: queue))
            guard let letter = letters.first else {
                return page("deadLetter", title: "Dead letter", session: session(request), ["error": "No dead letter '\(id)' in \(queue)."], status: .notFound)
            }
            return page("deadLetter", title: "Dead letter", session: session(request),
                        ["letter": Views.letter(letter), "notice": letters.count > 1 ? "\(letters.count) messages have this id (duplicates)." : ""])
        }
        group.post("/dead-letters/confirm") { [self] request, _ in
            let f = try await Form.body(request)
            guard let s = session(request), f["csrf"] == s.csrf else { return Self.jsonError("missing or wrong CSRF token", status: .forbidden) }
            do {
                let (queue, filter, _) = try selection(f)
                let count = try await desk.count(queue: queue, filter: filter)
                let action = f["action"] == "purge" ? "purge" : "requeue"
                let delay = (f["delay"] ?? "").isEmpty ? "" : " after \(f["delay"]!)"
                let what = f["id"].flatMap { $0.isEmpty ? nil : "dead letter '\($0)'" } ?? (filter.isEmpty ? "every dead letter" : "every dead letter matching the filter")
                var context: [String: Any] = ["queue": f["queue"] ?? "", "id": f["id"] ?? "", "delay": f["delay"] ?? ""]
                context["filter"] = f
                context["action"] = action
                context["purge"] = action == "purge"
                context["count"] = count
                context["summary"] = action == "purge" ? "Delete \(what) in \(queue) (\(count) now)? This cannot be undone."
                                                       : "Send \(what) in \(queue) (\(count) now) back to work\(delay)?"
                return page("confirm", title: "Confirm \(action)", session: s, context)
            } catch {
                return page("confirm", title: "Confirm", session: s, ["error": "\(error)"], status: .badRequest)
            }
        }
        group.post("/dead-letters/act") { [self] request, _ in
            let f = try await Form.body(request)
            guard let s = session(request), f["csrf"] == s.csrf else { return Self.jsonError("missing or wrong CSRF token", status: .forbidden) }
            guard f["confirmed"] == "yes" else { return Self.jsonError("not confirmed", status: .badRequest) }
            do {
                let (queue, filter, delay) = try selection(f)
                let r = f["action"] == "purge" ? try await desk.purge(queue: queue, filter: filter)
                                               : try await desk.requeue(queue: queue, filter: filter, delay: delay)
                let verb = f["action"] == "purge" ? "purged" : "requeued"
                var v = Views.queues(try await data.queues())
                v["notice"] = "\(r.done) message(s) \(verb) from \(queue)\(r.failed > 0 ? ", \(r.failed) failed: \(r.errors.joined(separator: "; "))" : "")."
                v["page"] = "queues"
                return page("queues", title: "Queues", session: s, v)
            } catch {
                return page("confirm", title: "Confirm", session: s, ["error": "\(error)"], status: .badRequest)
            }
        }
    }

    /// The queue, filter (one id, or the filter fields) and delay a form names.
    func selection(_ f: [String: String]) throws -> (String, DeadLetterFilter, Duration?) {
        guard let q = f["queue"], !q.isEmpty else { throw WarrenError(.invalidInput, "no queue given") }
        var fields = f.filter { Self.filterKeys.contains($0.key) }
        if let id = f["id"], !id.isEmpty { fields = ["id": id] }
        let filter = try DeadLetterFilter(fields: fields)
        var delay: Duration?
        if let d = f["delay"], !d.isEmpty {
            guard let parsed = try? parseDuration(d) else { throw WarrenError(.invalidInput, "delay '\(d)' is not like 30s, 5m, 2h") }
            delay = parsed
        }
        return (DeadLetterQueues.deadLetterQueue(for: q), filter, delay)
    }
}
