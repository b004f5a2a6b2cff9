import Foundation

/// What an enqueue through a ``TrackedProducer`` did.
public struct EnqueueReceipt: Sendable, Hashable {
    /// The job's id: the new job's, or the id of the job that holds the unique key.
    public var jobID: String
    /// `true` when nothing was enqueued because job ``jobID`` holds the unique key.
    public var existing: Bool

    /// Creates a receipt.
    public init(jobID: String, existing: Bool) {
        self.jobID = jobID
        self.existing = existing
    }
}

/// A ``JobProducer`` that records jobs in a ``JobStore`` as it enqueues them, and honours unique keys
/// (``EnqueueOptions/unique``). The job's row is written before it is published, so a lookup right after
/// enqueue finds it; a publish that fails marks it dead with reason `not-enqueued` (and frees its key).
/// Errors thrown are ``WarrenError`` (broker, input) or ``StoreError`` (store).
public struct TrackedProducer: Sendable {
    /// The producer that publishes.
    public let producer: JobProducer
    /// Where jobs are recorded.
    public let store: any JobStore

    /// Wraps `producer`, recording into `store`.
    public init(producer: JobProducer, store: any JobStore) {
        self.producer = producer
        self.store = store
    }

    /// Enqueues a typed job (see ``enqueue(_:)-(JobRequest)``).
    @discardableResult
    public func enqueue<P: JobParameters>(_ job: P, options: EnqueueOptions = EnqueueOptions()) async throws -> EnqueueReceipt {
        try await enqueue(try JobRequest(job, options: options))
    }

    /// Enqueues one request. With a unique key held by another job, enqueues nothing and returns that
    /// job's id with ``EnqueueReceipt/existing`` set.
    @discardableResult
    public func enqueue(_ request: JobRequest) async throws -> EnqueueReceipt {
        let (plain, update, unique) = try Self.prepare(request, at: Date())
        if let unique {
            if case .held(let holder) = try await store.claim(unique, for: update) {
                return EnqueueReceipt(jobID: holder, existing: true)
            }
        } else {
            try await store.write(StoreBatch(updates: [update]))
        }
        do {
            try await producer.enqueue(plain)
        } catch {
            try await store.write(Self.notEnqueued(update, unique: unique, error: "\(error)"))
            throw error
        }
        return EnqueueReceipt(jobID: update.id, existing: false)
    }

    /// Enqueues requests without unique keys in one store write and one confirmed publish batch; returns a
    /// result per request, in order. A request with a unique key fails (enqueue it alone).
    public func enqueue(batch requests: [JobRequest]) async throws -> [Result<String, WarrenError>] {
        let now = Date()
        var plain: [JobRequest] = []
        var updates: [JobUpdate] = []
        for r in requests {
            guard r.options.unique == nil else {
                throw WarrenError(.invalidInput, "unique jobs are enqueued one at a time, not in a batch ('\(r.name)')")
            }
            let (p, u, _) = try Self.prepare(r, at: now)
            plain.append(p)
            updates.append(u)
        }
        try await store.write(StoreBatch(updates: updates))
        let results = await producer.enqueue(batch: plain)
        let failed = zip(updates, results).compactMap { u, r -> JobUpdate? in
            guard case .failure(let e) = r else { return nil }
            return Self.notEnqueued(u, unique: nil, error: "\(e)").updates[0]
        }
        if !failed.isEmpty { try await store.write(StoreBatch(updates: failed)) }
        return results
    }

    /// The request as the plain producer publishes it (id fixed, unique key moved into headers), its
    /// `enqueued`/`scheduled` row, and its unique key. Pure; public for other enqueue paths (the outbox).
    public static func prepare(_ request: JobRequest, at now: Date) throws(WarrenError) -> (JobRequest, JobUpdate, UniqueJob?) {
        var r = request
        let id = r.options.jobID ?? JobID.make()
        r.options.jobID = id
        let unique = r.options.unique
        if let unique {
            try unique.validate()
            r.options.headers[UniqueJob.Header.key] = .string(unique.key)
            r.options.headers[UniqueJob.Header.release] = .string(unique.release.rawValue)
            r.options.unique = nil
        }
        let runAt = r.options.runAt ?? r.options.delay.map { now.addingTimeInterval($0.seconds) }
        var u = JobUpdate(id: id, state: runAt == nil ? .enqueued : .scheduled, attempt: 1, at: now)
        u.name = r.name
        u.queue = r.options.queue
        u.enqueuedAt = now
        u.runAt = runAt
        u.uniqueKey = unique?.key
        return (r, u, unique)
    }

    /// The batch that records a failed publish: the job dead as `not-enqueued`, its key freed.
    static func notEnqueued(_ enqueued: JobUpdate, unique: UniqueJob?, error: String) -> StoreBatch {
        var u = JobUpdate(id: enqueued.id, state: .dead, attempt: enqueued.attempt, at: Date())
        u.finishedAt = u.at
        u.deadReason = "not-enqueued"
        u.lastError = "publish failed: \(error)"
        return StoreBatch(updates: [u], releases: unique.map { [UniqueRelease(key: $0.key, jobID: enqueued.id)] } ?? [])
    }
}
