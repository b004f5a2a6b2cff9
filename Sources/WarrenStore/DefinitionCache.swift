import Foundation
import Synchronization
import Warren

/// Batch definitions decoded from their stored text, kept by that text: every group commit of children
/// returns its batch's row, and decoding the definition's JSON again at each commit was about 2% of a
/// batch drain's worker samples. A definition never changes under its text, so a kept one is always right.
final class DefinitionCache: Sendable {
    /// Definitions kept at most; when full, the cache starts over.
    static let limit = 256
    private let kept = Mutex<[String: BatchDefinition]>([:])

    /// The definition `text` encodes; throws ``StoreError/Code/query`` naming `batch` when it is unreadable.
    func decode(_ text: String, batch: String) throws(StoreError) -> BatchDefinition {
        if let known = kept.withLock({ $0[text] }) { return known }
        let definition: BatchDefinition
        do {
            definition = try JSONDecoder().decode(BatchDefinition.self, from: Data(text.utf8))
        } catch {
            throw StoreError(.query, "batch \(batch): its stored definition is unreadable: \(error)")
        }
        kept.withLock {
            if $0.count >= Self.limit { $0.removeAll(keepingCapacity: true) }
            $0[text] = definition
        }
        return definition
    }
}

extension SQLBatchLedger {
    /// The process's decoded definitions.
    static let definitions = DefinitionCache()
}
