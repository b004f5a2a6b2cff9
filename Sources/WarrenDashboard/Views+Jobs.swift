import Foundation
import Warren

/// Job-store values as template contexts: only formatting.
extension Views {
    static func param(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }

    static func percent(_ p: Double?) -> Int? { p.map { Int((min(1, max(0, $0)) * 100).rounded()) } }

    static func jobRow(_ s: JobStatus) -> [String: Any] {
        ["id": s.id, "idParam": param(s.id), "name": s.name ?? "-", "queue": s.queue ?? "-", "state": s.state.rawValue,
         "attempt": s.attempt, "progress": percent(s.progress).map { "\($0) %" } ?? "-", "updated": time(s.updatedAt),
         "lastError": s.lastError ?? ""]
    }

    /// One job: its result pretty-printed as JSON when it is JSON (as dead-letter bodies are).
    static func job(_ s: JobStatus) -> [String: Any] {
        var out = jobRow(s)
        out["worker"] = s.worker ?? "-"
        out["hasProgress"] = s.progress != nil
        out["percent"] = percent(s.progress) ?? 0
        // Optional texts only when present: a template section over an absent key shows nothing.
        out["lastError"] = nil
        for (key, text) in [("progressMessage", s.progressMessage), ("result", s.result.map { DeadLetterText.body(Array($0.utf8)) }),
                            ("lastError", s.lastError), ("deadReason", s.deadReason)] {
            if let text, !text.isEmpty { out[key] = text }
        }
        out["uniqueKey"] = s.uniqueKey ?? "-"
        for (key, date) in [("enqueuedAt", s.enqueuedAt), ("runAt", s.runAt), ("startedAt", s.startedAt), ("finishedAt", s.finishedAt),
                            ("updatedAt", s.updatedAt)] {
            out[key] = time(date)
        }
        if let workflow = WorkflowView.workflowID(ofJob: s.id) {
            out["workflow"] = workflow
            out["workflowParam"] = param(workflow)
        }
        return out
    }

    /// The jobs page's filter form: every state with the current one selected.
    static func stateOptions(_ current: JobState?) -> [[String: Any]] {
        JobState.allCases.filter { $0 != .unknown }.map { ["name": $0.rawValue, "selected": $0 == current] }
    }

    static func limit(_ l: LimitStatus) -> [String: Any] {
        ["job": l.job, "kind": l.kind, "limit": l.limit, "queue": l.queue, "holders": l.kind == "global" ? num(l.holders) : "-",
         "available": num(l.available), "waiters": num(l.waiters)]
    }
}
