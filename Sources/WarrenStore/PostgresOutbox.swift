import Foundation
import Logging
import PostgresNIO
import Warren

/// Transactional enqueue on PostgreSQL: a job enqueued with ``Warren/JobProducer/enqueue(_:in:logger:)``
/// is a row of `warren_outbox` written inside the application's own transaction, so it exists exactly when
/// that transaction commits. ``OutboxRelay`` publishes the rows with confirms and deletes them afterwards
/// (at least once: a relay killed between confirm and delete publishes those rows again).
public enum PostgresOutbox {
    /// The channel `NOTIFY`'d on each enqueue (delivered at commit) to wake the relay.
    public static let channel = "warren_outbox"

    /// The outbox table (created with the store's schema, PostgreSQL only; docs/store.md).
    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS warren_outbox (
            seq BIGSERIAL PRIMARY KEY,
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            queue TEXT NOT NULL,
            arguments TEXT NOT NULL,
            priority BIGINT,
            run_at BIGINT,
            max_attempts BIGINT,
            created_at BIGINT NOT NULL
        )
        """,
    ]

    /// The row's binds for `request` with job id `id`, created `now`.
    static func row(_ request: JobRequest, id: String, now: Date) -> [SQLValue] {
        let o = request.options
        let runAt = o.runAt ?? o.delay.map { now.addingTimeInterval($0.seconds) }
        return [.text(id), .text(request.name), .text(o.queue), .text(String(decoding: request.arguments, as: UTF8.self)),
                o.priority.map { .int(Int($0)) } ?? .null, .time(runAt), o.maxAttempts.map { .int($0) } ?? .null, .time(now)]
    }

    static let insert = """
        INSERT INTO warren_outbox (id, name, queue, arguments, priority, run_at, max_attempts, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// A row read back as the request to publish.
    static func request(_ r: SQLRow) -> JobRequest {
        var o = EnqueueOptions(queue: r.string("queue") ?? "default")
        o.jobID = r.string("id")
        o.priority = r.int("priority").map { UInt8(clamping: $0) }
        o.runAt = r.time("run_at")
        o.maxAttempts = r.int("max_attempts")
        return JobRequest(name: r.string("name") ?? "", arguments: Array((r.string("arguments") ?? "{}").utf8), options: o)
    }
}

extension JobProducer {
    /// Enqueues `request` inside the caller's open transaction on `connection` (e.g. in
    /// `PostgresClient.withTransaction`): nothing is published if it rolls back; once it commits,
    /// ``OutboxRelay`` publishes the job at least once. Also records it as `enqueued` in the job store's
    /// table. Returns the job id. Unique keys are not supported here (use ``TrackedProducer``).
    @discardableResult
    public func enqueue(_ request: JobRequest, in connection: PostgresConnection,
                        logger: Logger = Logger(label: "warren.outbox")) async throws -> String {
        guard request.options.unique == nil else {
            throw WarrenError(.invalidInput, "unique jobs cannot be enqueued through the outbox; use TrackedProducer")
        }
        guard request.arguments.count <= maxMessageBytes else {
            throw WarrenError(.oversized, "job '\(request.name)' arguments are \(request.arguments.count) bytes; the limit is \(maxMessageBytes)")
        }
        guard !request.options.queue.isEmpty else { throw WarrenError(.invalidInput, "queue name is empty") }
        let now = Date()
        let (_, update, _) = try TrackedProducer.prepare(request, at: now)
        let session = PostgresBackend.Session(connection: connection, logger: logger)
        try await session.run(PostgresOutbox.insert, PostgresOutbox.row(request, id: update.id, now: now))
        try await SQLJobStore.apply(StoreBatch(updates: [update]), on: session, columnArrays: true)
        try await session.run("NOTIFY \(PostgresOutbox.channel)")
        return update.id
    }
}
