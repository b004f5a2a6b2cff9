import Foundation
import Warren

/// The sweeper's part for batches (``SQLJobStore/sweep(_:now:)``): deletes settled batches
/// (``BatchRetention/isSettled(_:)``) whose children all finished before the retention cutoff, oldest first,
/// with their children (rows and slots) and claims. Bounded: at most `policy.maxBatches` statements of at most
/// `policy.batchSize` rows each per sweep; the next sweep goes on where this one stopped.
///
/// Order, so a kill anywhere leaves nothing behind: a batch's children go first (rows, then slots, in
/// chunks), then its row
/// and its claims together in one transaction. A batch whose children are half deleted is still complete
/// with its callbacks enqueued (the counters live in its row), so the next sweep finishes it; its claims
/// never go without its row (which would make its callbacks look due again). The row is deleted only
/// while still sealed with nothing pending.
enum BatchSweep {
    /// Complete batches whose every child finished before the cutoff, oldest first, after a keyset
    /// position. Binds: cutoff, after's millis twice and id, cutoff twice, limit.
    static let candidates = """
        SELECT * FROM warren_batches b WHERE b.sealed = 1 AND b.pending = 0 AND b.created_at < ?
          AND (b.created_at > ? OR (b.created_at = ? AND b.id > ?))
          AND NOT EXISTS (SELECT 1 FROM warren_batch_children c WHERE c.batch_id = b.id AND (c.finished_at IS NULL OR c.finished_at >= ?))
          AND NOT EXISTS (SELECT 1 FROM warren_batch_slots s WHERE s.batch_id = b.id AND (s.finished_at IS NULL OR s.finished_at >= ?))
        ORDER BY b.created_at, b.id LIMIT ?
        """

    /// Up to `?` children of a batch. Binds: batch, batch, limit.
    static let deleteChildren = """
        DELETE FROM warren_batch_children WHERE batch_id = ? AND child_id IN (
            SELECT child_id FROM warren_batch_children WHERE batch_id = ? LIMIT ?)
        RETURNING child_id
        """

    static let deleteBatch = "DELETE FROM warren_batches WHERE id = ? AND sealed = 1 AND pending = 0 RETURNING id"
    static let deleteClaims = "DELETE FROM warren_batch_claims WHERE batch_id = ?"

    /// One bounded sweep of batches settled before `cutoff`; returns how many batches were deleted.
    static func sweep(_ policy: SweepPolicy, before cutoff: Date, on backend: any SQLBackend) async throws(StoreError) -> Int {
        var budget = policy.maxBatches
        var after: (millis: Int64, id: String) = (.min, "")
        var deleted = 0
        let n = SQLValue.int(policy.batchSize), before = SQLValue.time(cutoff)
        while budget > 0 {
            budget -= 1
            let rows = try await backend.run(candidates, [before, .int(after.millis), .int(after.millis), .text(after.id), before, before, n])
            for row in rows {
                let id = row.string("id") ?? ""
                after = (Int64(row.int("created_at") ?? 0), id)
                let snapshot = try await SQLBatchLedger.snapshot(id, row: row, on: backend, claimsOnlyIfDue: false)
                guard BatchRetention.isSettled(snapshot) else { continue }
                var childrenLeft = true
                while childrenLeft, budget > 0 {
                    budget -= 1
                    childrenLeft = try await backend.run(deleteChildren, [.text(id), .text(id), n]).count >= policy.batchSize
                }
                var slotsLeft = true
                while !childrenLeft, slotsLeft, budget > 0 {
                    budget -= 1
                    slotsLeft = try await backend.run(BatchSlots.delete, [.text(id), .text(id), n]).count >= policy.batchSize
                }
                childrenLeft = childrenLeft || slotsLeft
                guard !childrenLeft, budget > 0 else { return deleted }
                budget -= 1
                deleted += try await backend.transaction { s throws(StoreError) in
                    guard try await !s.run(deleteBatch, [.text(id)]).isEmpty else { return 0 }
                    try await s.run(deleteClaims, [.text(id)])
                    return 1
                }
            }
            if rows.count < policy.batchSize { break }
        }
        return deleted
    }
}
