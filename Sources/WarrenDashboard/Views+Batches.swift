import Foundation
import Warren

/// Batches as template contexts: only formatting.
extension Views {
    static func batchRow(_ b: BatchView) -> [String: Any] {
        ["id": b.id, "idParam": param(b.id), "state": b.state.rawValue, "total": b.total, "finished": b.finished, "pending": b.pending,
         "succeeded": b.succeeded, "dead": b.dead, "created": time(b.createdAt),
         "callbacks": b.callbacks.map { ["kind": $0.kind.rawValue, "jobID": $0.jobID, "state": $0.state.rawValue] }]
    }

    /// One batch with its children page (``BatchReport``).
    static func batch(_ r: BatchReport) -> [String: Any] {
        let b = r.view
        var out = batchRow(b)
        out["percent"] = b.total == 0 ? 0 : b.finished * 100 / b.total
        out["sealedText"] = b.sealed ? "sealed" : "not sealed: the opener may add children"
        out["finishedAt"] = time(b.finishedAt)
        if let parent = b.parentBatch {
            out["parentBatch"] = parent
            out["parentParam"] = param(parent)
            out["parentChild"] = b.parentChild ?? "?"
            out["parentTold"] = b.parentNotified ? "told" : "not told yet"
        }
        out["callbacks"] = b.callbacks.map { c -> [String: Any] in
            ["kind": c.kind.rawValue, "job": c.job, "jobID": c.jobID, "jobParam": param(c.jobID), "state": c.state.rawValue,
             "jobState": r.callbackJobs[c.jobID]?.state.rawValue ?? "-"]
        }
        out["children"] = r.children.children.map { c -> [String: Any] in
            ["id": c.id, "idParam": param(c.id), "name": c.job?.name ?? "-", "outcome": c.outcome?.rawValue ?? "pending",
             "jobState": c.job?.state.rawValue ?? "-", "attempt": c.job.map { String($0.attempt) } ?? "-", "finished": time(c.finishedAt),
             "lastError": c.job?.lastError ?? ""]
        }
        return out
    }
}
