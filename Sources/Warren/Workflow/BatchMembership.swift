import WarrenAMQP

/// A running child of a batch: which batch, and how to add children to it. Set for the job's code by
/// ``BatchMiddleware`` (``current``).
public struct BatchMembership: Sendable {
    /// The batch id (from the ``WorkflowHeader/batch`` header).
    public let batch: String
    /// This child's job id.
    public let child: String
    let ledger: any BatchLedger
    let producer: JobProducer
    let queue: String

    /// The batch of the job running in this task, if it is a batch child.
    @TaskLocal public static var current: BatchMembership?

    /// Adds `jobs` to the batch while this child runs (it is itself pending, so the batch cannot complete
    /// in between): registers them, then publishes them with confirms. Their ids are `<child>.<k>`
    /// (1-based), so a child that runs again adds the same ids (counted once). Returns the ids.
    @discardableResult
    public func add(_ jobs: [WorkflowJob]) async throws -> [String] {
        let ids = jobs.indices.map { "\(child).\($0 + 1)" }
        try await ledger.add(children: ids, to: batch)
        try await producer.publish(zip(jobs, ids).map { job, id in Self.request(job, id: id, queue: job.queue ?? queue, batch: batch) })
        return ids
    }

    /// The request of a child job: the job in `batch`, which the producer carries in the route where the
    /// id allows (``BatchRoute``), else in the ``WorkflowHeader/batch`` header.
    static func request(_ job: WorkflowJob, id: String, queue: String, batch: String) -> JobRequest {
        var request = job.request(id: id, queue: queue, headers: [:])
        request.batch = batch
        return request
    }

    /// Reads the batch header: a non-empty string, or the child is dead-lettered `undecodable`.
    static func batchID(header value: FieldValue) throws(ArgumentsError) -> String {
        guard let text = value.stringValue, isBatchID(text) else {
            throw ArgumentsError(reason: .undecodable,
                                 message: value == .void
                                    ? "published to exchange '\(WireFormat.batchExchange)' without header '\(WorkflowHeader.batch)', so its job id must be '<batch>.<k>'; it is not"
                                    : "header '\(WorkflowHeader.batch)' must be a batch id (a non-empty one-line string), not \(value)")
        }
        return text
    }

    /// Whether `text` can be a batch id: not empty, one line, at most 1,024 characters. Read twice per
    /// child (run and settlement): an ASCII id (any id Warren makes) is checked on its bytes, as counting
    /// and scanning its characters (grapheme breaking) took about 3% of the batch benchmark's samples (perf).
    static func isBatchID(_ text: String) -> Bool {
        var text = text
        let ascii = text.withUTF8 { u -> Bool? in
            guard !u.isEmpty else { return false }
            // In ASCII the newlines (`Character.isNewline`) are LF, VT, FF and CR. Scanned as contiguous bytes:
            // the generic `UTF8View` walk was a few percent of the batch benchmark's worker samples too.
            for byte in u {
                if byte >= 0x80 { return nil }
                if byte >= 0x0A && byte <= 0x0D { return false }
            }
            return u.count <= 1_024
        }
        if let ascii { return ascii }
        return text.count <= 1_024 && !text.contains(where: \.isNewline)
    }

    /// A coordinator publishing callbacks with `producer` (confirms), on their own queue or `queue`.
    static func coordinator(ledger: any BatchLedger, producer: JobProducer, queue: String, lease: Duration) -> BatchCoordinator {
        BatchCoordinator(ledger: ledger, lease: lease) { planned in
            var headers = planned.job.continuation?.headers ?? [:]
            headers[WorkflowHeader.batchCallback] = .string(planned.batch)
            try await producer.publish([planned.job.request(id: planned.id, queue: planned.job.queue ?? queue, headers: headers)])
        }
    }

    /// Runs `body` again while a callback is held by another claimant (perhaps killed mid-publish), until
    /// its lease may have run out (lease + 5 s); then the held error is thrown.
    static func waitingOutHeld(lease: Duration, _ body: () async throws -> Void) async throws {
        let deadline = ContinuousClock.now + lease + .seconds(5)
        while true {
            do { return try await body() } catch let held as BatchCallbackHeld {
                guard ContinuousClock.now < deadline else { throw held }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

extension WorkflowHeader {
    /// The batch a child belongs to: its id, plain text.
    public static let batch = "warren-batch"
    /// On a callback job: the batch whose callback it is.
    public static let batchCallback = "warren-batch-callback"
}
