import Foundation

/// Read access to the batches a job store keeps (``BatchLedger`` writes them): one batch, a batch's children
/// and the recent batches, each list in keyset pages that read only their own rows, however deep. The
/// SQLite and PostgreSQL stores implement it (``JobStore/batchCatalog``).
public protocol BatchCatalog: Sendable {
    /// Batch `id`; ``BatchView/State/unknown`` when the store has no such batch.
    func view(_ id: String) async throws(StoreError) -> BatchView
    /// Up to `limit` children of `batch` in child-id order (text order), after the child id `after`.
    func children(of batch: String, after: String?, limit: Int) async throws(StoreError) -> [BatchChild]
    /// Up to `limit` batches, most recently created first, after `after` (creation time and id).
    func recent(after: JobCursor?, limit: Int) async throws(StoreError) -> [BatchView]
}

/// One page of a batch's children (``BatchCatalog/children(of:after:limit:)``).
public struct BatchChildrenPage: Sendable, Hashable, Codable {
    /// The children, in child-id order.
    public var children: [BatchChild]
    /// The `after` of the next page (the last child's id); `nil` on the last page.
    public var next: String?

    /// Reads the page of `batch` after `after` (at most `limit` children; one more is asked for to know
    /// whether a next page exists).
    public static func read(_ batch: String, after: String?, limit: Int, from catalog: any BatchCatalog) async throws(StoreError) -> BatchChildrenPage {
        let limit = max(1, limit)
        let found = try await catalog.children(of: batch, after: after, limit: limit + 1)
        let page = Array(found.prefix(limit))
        return BatchChildrenPage(children: page, next: found.count > limit ? page.last?.id : nil)
    }
}

/// One page of recent batches (``BatchCatalog/recent(after:limit:)``).
public struct BatchListPage: Sendable, Hashable {
    /// The batches, most recently created first.
    public var batches: [BatchView]
    /// The `after` of the next page (`MILLIS:ID` of the last batch's creation); `nil` on the last page.
    public var next: JobCursor?

    /// Reads the page after `after` (at most `limit` batches, one more asked for as above).
    public static func read(after: JobCursor?, limit: Int, from catalog: any BatchCatalog) async throws(StoreError) -> BatchListPage {
        let limit = max(1, limit)
        let found = try await catalog.recent(after: after, limit: limit + 1)
        let page = Array(found.prefix(limit))
        guard found.count > limit, let last = page.last, let at = last.createdAt else { return BatchListPage(batches: page, next: nil) }
        return BatchListPage(batches: page, next: JobCursor(text: "\(Int64((at.timeIntervalSince1970 * 1000).rounded())):\(last.id)"))
    }
}

extension BatchView {
    /// Batch `id` in `store`; throws ``StoreError/Code/notConfigured`` when the store keeps no batches.
    public static func read(_ id: String, from store: any JobStore) async throws(StoreError) -> BatchView {
        guard let catalog = store.batchCatalog else { throw StoreError.notConfigured("reading a batch") }
        return try await catalog.view(id)
    }
}
