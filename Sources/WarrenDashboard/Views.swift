import Foundation
import Warren
import WarrenManagement
import WarrenMetrics

/// Library values as template contexts: only formatting (numbers, times), no figures computed here.
enum Views {
    static func num(_ v: Int?) -> String { v.map(String.init) ?? "n/a" }
    static func rate(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "n/a" }
    static func time(_ d: Date?) -> String { DeadLetterText.time(d) }

    static func overview(_ o: DashboardData.Overview) -> [String: Any] {
        let peak = max(1, o.activity.history.map(\.processed).max() ?? 1)
        func points(_ key: KeyPath<Activity.Point, Double>) -> String {
            let h = o.activity.history, n = max(1, h.count - 1)
            return h.enumerated().map { i, p in String(format: "%.1f,%.1f", Double(i) * 600 / Double(n), 118 - 110 * p[keyPath: key] / peak) }
                .joined(separator: " ")
        }
        return [
            "broker": o.broker ?? "AMQP only", "managementError": o.managementError ?? "", "messages": num(o.messages),
            "unacked": num(o.unacked), "workers": o.workers, "peak": String(format: "%.1f", peak),
            "historyMinutes": Int(o.activity.bucketSeconds * Double(o.activity.history.count) / 60),
            "rateWindow": Int(o.activity.rateWindow),
            "processedPoints": points(\.processed), "failedPoints": points(\.failed),
            "rates": o.activity.queues.map { q in
                ["queue": q.queue, "processed": rate(q.processed), "failed": rate(q.failed), "retried": rate(q.retried),
                 "deadLettered": rate(q.deadLettered)] as [String: Any]
            },
        ]
    }

    static func queues(_ s: BrokerStatus) -> [String: Any] {
        [
            "rows": s.queues.map { r -> [String: Any] in
                guard r.exists else {
                    return ["queue": r.queue, "ready": "missing", "unacked": "", "consumers": "", "dead": "", "publishRate": "",
                            "deliverRate": "", "ackRate": ""]
                }
                return ["queue": r.queue, "ready": num(r.ready), "unacked": num(r.unacked), "consumers": num(r.consumers),
                        "dead": r.dead.map(String.init) ?? "-", "publishRate": rate(r.publishRate), "deliverRate": rate(r.deliverRate),
                        "ackRate": rate(r.ackRate)]
            },
            "unackedSource": s.unackedSource,
            "levels": s.delayLevels.map { ["level": $0.level, "millis": 1 << $0.level, "messages": $0.messages] as [String: Any] },
            "migrations": s.pendingMigrations.map { ["holdingQueue": $0.holdingQueue, "messages": $0.messages] as [String: Any] },
        ]
    }

    static func workers(_ list: [Announcement], consumers: Result<[ManagementAPI.Consumer], ManagementError>, now: Date) -> [String: Any] {
        var out: [String: Any] = [
            "expiry": Int((list.first?.interval ?? 5) * Announcement.expiryFactor),
            "workers": list.map { w -> [String: Any] in
                ["host": w.host, "pid": w.pid, "queues": w.queues.joined(separator: ", "), "concurrency": num(w.concurrency),
                 "busy": w.busy, "done": w.jobsDone, "started": time(w.startedAt),
                 "seen": "\(max(0, Int(now.timeIntervalSince(w.sentAt).rounded()))) s ago"]
            },
        ]
        switch consumers {
        case .success(let list):
            out["consumers"] = list.map { c -> [String: Any] in
                ["queue": c.queue, "peer": "\(c.peerHost ?? "?"):\(c.peerPort.map(String.init) ?? "?")",
                 "connection": c.connectionName ?? "", "prefetch": num(c.prefetchCount)]
            }
        case .failure(let e):
            out["consumerError"] = "Consumers' hosts need the management API: \(e)"
        }
        return out
    }

    static func schedules(_ list: [ScheduleStatus]) -> [String: Any] {
        ["schedules": list.map { s -> [String: Any] in
            ["name": s.name, "expression": s.expression, "job": s.job, "queue": s.queue,
             "next": s.nextFires.map(time).joined(separator: ", "), "last": time(s.lastFire),
             "leader": s.leader ?? "none", "replicas": s.replicas]
        }]
    }

    static func letterRow(_ l: DeadLetter) -> [String: Any] {
        ["id": l.id, "idParam": param(l.id), "job": l.job,
         "error": DeadLetterText.error(l), "reason": l.reason ?? "-", "attempts": l.attempts, "failedAt": time(l.failedAt),
         "queue": l.deadLetterQueue]
    }

    static func letter(_ l: DeadLetter) -> [String: Any] {
        var out = letterRow(l)
        out["workQueue"] = l.workQueue
        out["history"] = (l.failure?.history ?? []).map { e -> [String: Any] in
            ["attempt": e.attempt, "at": time(e.at), "host": e.host, "error": "\(e.type): \(e.message)"]
        }
        out["headers"] = l.headers.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": DeadLetterText.header($0.key, $0.value)] }
        out["body"] = DeadLetterText.body(l.body)
        return out
    }
}
