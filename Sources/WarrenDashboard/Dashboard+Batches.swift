import Foundation
import Hummingbird
import Warren

/// The batches pages (recent batches, one batch with its children in pages) and their JSON API, over the
/// store's ``BatchCatalog``. Without a store the pages say how to configure one and the API answers 404.
extension Dashboard {
    func registerBatches<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.get("/batches") { [self] request, _ in
            let q = Form.query(request)
            if let id = q["id"], !id.isEmpty { return redirect("/batches/\(Views.param(id))") }
            guard let store = data.store else { return page("batches", title: "Batches", session: session(request), ["noStore": Self.noStoreText]) }
            var v: [String: Any] = ["page": "batches"]
            do {
                let p = try await BatchListPage.read(after: try Self.cursor(q["after"]), limit: configuration.pageSize, from: try Self.catalog(store))
                v["batches"] = p.batches.map(Views.batchRow)
                if q["after"] != nil { v["first"] = true }
                if let next = p.next { v["next"] = Form.encode(["after": next.text]) }
            } catch {
                v["error"] = "\(error)"
            }
            return page("batches", title: "Batches", session: session(request), v)
        }
        group.get("/batches/:id") { [self] request, context in
            let id = Self.pathID(context)
            guard let store = data.store else { return page("batch", title: "Batch", session: session(request), ["noStore": Self.noStoreText]) }
            let after = Form.query(request)["after"].flatMap { $0.isEmpty ? nil : $0 }
            let found: BatchReport?
            do { found = try await BatchReport.read(id, from: store, after: after, limit: configuration.pageSize) } catch {
                return page("batch", title: "Batch", session: session(request), ["error": "\(error)", "page": "batches"], status: .serviceUnavailable)
            }
            guard let report = found else {
                return page("batch", title: "Batch", session: session(request), ["page": "batches",
                            "error": "No batch '\(id)' in the store \(store.location): never opened there, or swept after its retention."], status: .notFound)
            }
            var b = Views.batch(report)
            if after != nil { b["firstChildren"] = true }
            if let next = report.children.next { b["nextChildren"] = Form.encode(["after": next]) }
            return page("batch", title: "Batch \(id)", session: session(request), ["batch": b, "page": "batches"])
        }
        group.get("/api/batches") { [self] request, _ in
            guard let store = data.store else { return Self.jsonError(Self.noStoreText, status: .notFound) }
            do {
                let q = Form.query(request)
                let limit = min(500, max(1, Int(q["limit"] ?? "") ?? configuration.pageSize))
                let p = try await BatchListPage.read(after: try Self.cursor(q["after"]), limit: limit, from: try Self.catalog(store))
                return Self.json(BatchesAnswer(batches: p.batches, next: p.next?.text))
            } catch {
                return Self.jsonError("\(error)", status: .badRequest)
            }
        }
        group.get("/api/batches/:id") { [self] request, context in
            guard let store = data.store else { return Self.jsonError(Self.noStoreText, status: .notFound) }
            let q = Form.query(request)
            let limit = min(500, max(1, Int(q["limit"] ?? "") ?? configuration.pageSize))
            let found: BatchReport?
            do {
                found = try await BatchReport.read(Self.pathID(context), from: store, after: q["after"].flatMap { $0.isEmpty ? nil : $0 },
                                                   limit: limit)
            } catch { return Self.jsonError("\(error)", status: .serviceUnavailable) }
            guard let r = found else { return Self.jsonError("not found", status: .notFound) }
            return Self.json(BatchAnswer(batch: r.view, children: r.children.children, next: r.children.next,
                                         callbackJobs: r.callbackJobs.values.sorted { $0.id < $1.id }))
        }
    }

    /// The `:id` of the path, percent-decoded (the router leaves it encoded).
    static func pathID(_ context: some RequestContext) -> String {
        let raw = context.parameters.get("id") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    static func catalog(_ store: any JobStore) throws(StoreError) -> any BatchCatalog {
        guard let catalog = store.batchCatalog else { throw StoreError.notConfigured("Listing batches") }
        return catalog
    }

    static func cursor(_ text: String?) throws(WarrenError) -> JobCursor? {
        guard let text, !text.isEmpty else { return nil }
        guard let c = JobCursor(text: text) else { throw WarrenError(.invalidInput, "malformed page cursor '\(text)'") }
        return c
    }
}

/// `GET /api/batches`: a page of batches, newest first, and the `after` of the next (`null` on the last).
struct BatchesAnswer: Encodable {
    var batches: [BatchView]
    var next: String?
}

/// `GET /api/batches/:id`: the batch, a page of its children (`next`: the `after` of the following page) and
/// its callbacks' jobs as recorded.
struct BatchAnswer: Encodable {
    var batch: BatchView
    var children: [BatchChild]
    var next: String?
    var callbackJobs: [JobStatus]
}
