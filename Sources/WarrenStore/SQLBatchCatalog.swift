import Foundation
import Warren

/// The ``BatchCatalog`` over the batch ledger's tables (``BatchStatements``, ``BatchSlots``), the same SQL on
/// SQLite and PostgreSQL. Reads only: a batch is its row plus its done claims (and, once complete, the
/// latest finish time of its children); lists are keyset pages on the primary keys (children: those kept
/// as rows by id, then those kept as slots by `k`) or `warren_batches_created` (recent batches), so a page
/// reads only its rows (and at most the slot rows its children are in).
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
            let rows = try await backend.run(Self.finishedAt, [.text(id)]).first?.time("at")
            let slots = try await backend.run(BatchSlots.finishedAt, [.text(id)]).first?.time("at")
            view.finishedAt = [rows, slots].compactMap { $0 }.max()
        }
        return view
    }

    /// Children kept as rows first, by id, then those kept as slots, by `k` (a batch keeps its compact
    /// children one way only: ``SQLBatchLedger/keepsCompactChildrenAsRows(_:on:)``).
    func children(of batch: String, after: String?, limit: Int) async throws(StoreError) -> [BatchChild] {
        let limit = max(1, limit)
        let slotted = try await !backend.run(BatchSlots.any, [.text(batch)]).isEmpty
        var out: [BatchChild] = []
        var first = 0
        if slotted, let after, let k = ChildSlots.slot(of: after, in: batch) {
            first = k + 1
        } else {
            out = try await backend.run(Self.children, [.text(batch), .text(after ?? ""), .int(limit)]).map { r in
                BatchChild(id: r.string("child_id") ?? "", outcome: r.string("child_outcome").flatMap(ChildOutcome.init(rawValue:)),
                           finishedAt: r.time("child_finished_at"), job: r.string("id") == nil ? nil : StoreStatements.status(r))
            }
        }
        if slotted, out.count < limit { out += try await slotChildren(of: batch, from: first, limit: limit - out.count) }
        return out
    }

    /// Slot rows (4,096 children each) read per statement while filling a page.
    static let slotRowsPerRead = 4

    /// Up to `limit` children kept as slots from slot `first` on, with their jobs' rows.
    private func slotChildren(of batch: String, from first: Int, limit: Int) async throws(StoreError) -> [BatchChild] {
        var found: [(id: String, outcome: ChildOutcome?)] = []
        var chunk = first / ChildSlots.perChunk
        reading: while found.count < limit {
            let rows = try await backend.run(BatchSlots.page, [.text(batch), .int(chunk), .int(Self.slotRowsPerRead)])
            for r in rows {
                let (c, row) = BatchSlots.row(r)
                for i in row.chunk.registered.slots where c * ChildSlots.perChunk + i >= first {
                    found.append((ChildSlots.id(of: c * ChildSlots.perChunk + i, in: batch), row.chunk.outcome(i)))
                    if found.count == limit { break reading }
                }
                chunk = c + 1
            }
            if rows.count < Self.slotRowsPerRead { break }
        }
        guard !found.isEmpty else { return [] }
        let jobs = try await backend.run(Self.jobs(count: found.count), found.map { .text($0.id) }).map(StoreStatements.status)
        let byID = Dictionary(jobs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return found.map { BatchChild(id: $0.id, outcome: $0.outcome, finishedAt: byID[$0.id]?.finishedAt, job: byID[$0.id]) }
    }

    /// Jobs' rows by id. Binds: the ids.
    static func jobs(count: Int) -> String {
        "SELECT * FROM warren_jobs WHERE id IN (" + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
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
