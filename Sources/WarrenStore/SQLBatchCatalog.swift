import Foundation
import Warren

/// The ``BatchCatalog`` over the batch ledger's tables (``BatchStatements``), the same SQL on SQLite and
/// PostgreSQL. Reads only: a batch is its row plus its done claims (and, once complete, the latest finish
/// time of its children); lists are keyset pages on the primary key (children) or `warren_batches_created`
/// (recent batches), so a page reads only its rows.
struct SQLBatchCatalog: BatchCatalog {
    let backend: any SQLBackend

    /// A page of children, each with its job's row when the store recorded it. Binds: batch, after, limit.
    static let children = """
        SELECT c.child_id AS child_id, c.outcome AS child_outcome, c.finished_at AS child_finished_at, j.*
        FROM warren_batch_children c LEFT JOIN warren_jobs j ON j.id = c.child_id
        WHERE c.batch_id = ? AND c.child_id > ? ORDER BY c.child_id LIMIT ?
        """

    /// The latest finish time of a batch's children. Binds: batch.
    static let finishedAt = "SELECT max(finished_at) AS at FROM warren_batch_children WHERE batch_id = ?"

    /// A page of batches, newest first. Binds: after's millis twice and id (or a first page's bounds), limit.
    static let recent = """
        SELECT * FROM warren_batches WHERE (created_at < ? OR (created_at = ? AND id > ?)) ORDER BY created_at DESC, id LIMIT ?
        """

    func view(_ id: String) async throws(StoreError) -> BatchView {
        guard let row = try await backend.run(BatchStatements.batch, [.text(id)]).first else { return .unknown(id) }
        var view = try await Self.view(id, row: row, on: backend)
        if view.state == .complete {
            view.finishedAt = try await backend.run(Self.finishedAt, [.text(id)]).first?.time("at")
        }
        return view
    }

    func children(of batch: String, after: String?, limit: Int) async throws(StoreError) -> [BatchChild] {
        let rows = try await backend.run(Self.children, [.text(batch), .text(after ?? ""), .int(max(1, limit))])
        return rows.map { r in
            BatchChild(id: r.string("child_id") ?? "", outcome: r.string("child_outcome").flatMap(ChildOutcome.init(rawValue:)),
                       finishedAt: r.time("child_finished_at"), job: r.string("id") == nil ? nil : StoreStatements.status(r))
        }
    }

    func recent(after: JobCursor?, limit: Int) async throws(StoreError) -> [BatchView] {
        let millis = after?.updatedMillis ?? .max
        let rows = try await backend.run(Self.recent, [.int(millis), .int(millis), .text(after?.id ?? ""), .int(max(1, limit))])
        var out: [BatchView] = []
        for row in rows { out.append(try await Self.view(row.string("id") ?? "", row: row, on: backend)) }
        return out
    }

    /// The view of a `warren_batches` row (its done claims read only when a callback could be enqueued).
    static func view(_ id: String, row: SQLRow, on s: any SQLSession) async throws(StoreError) -> BatchView {
        let snapshot = try await SQLBatchLedger.snapshot(id, row: row, on: s, claimsOnlyIfDue: true)
        return BatchView(snapshot, createdAt: row.time("created_at"), finishedAt: nil)
    }
}
