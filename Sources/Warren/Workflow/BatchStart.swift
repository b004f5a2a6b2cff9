import WarrenAMQP

/// Opening batches: a ``WorkflowBatch`` started by hand (with its nested batches), and the batch of a
/// workflow's group followed by more steps (``WorkflowAdvance``), one way: the batch and its children are
/// recorded in the ledger, the children published with confirms, then the batch sealed.
extension JobProducer {
    /// Starts `batch`: records it and its children in `ledger`, publishes the children with confirms (in
    /// chunks of 1,000), starts its nested batches the same way, then seals it, publishing any callback
    /// already due. Returns the batch id. Starting the same batch again (same id) publishes the children of
    /// a batch not sealed yet again under the same ids; a sealed one is only sealed again.
    /// Throws ``StoreError/Code/notConfigured`` when `ledger` is `nil` (no job store).
    @discardableResult
    public func start(_ batch: WorkflowBatch, ledger: (any BatchLedger)?, lease: Duration = .seconds(60)) async throws -> String {
        guard let ledger else { throw StoreError.notConfigured("a batch (fan-in)") }
        try batch.validate()
        try await open(batch, parent: nil, ledger: ledger, lease: lease)
        return batch.id
    }

    private func open(_ batch: WorkflowBatch, parent: (batch: String, child: String)?, ledger: any BatchLedger,
                      lease: Duration) async throws {
        try await open(BatchDefinition(id: batch.id, callbacks: batch.callbacks, parent: parent), childIDs: batch.childIDs,
                       requests: batch.childRequests(), queue: batch.queue, ledger: ledger, lease: lease) {
            for inner in batch.nested { try await open(inner, parent: (batch.id, inner.id), ledger: ledger, lease: lease) }
        }
    }

    /// Publishes a workflow's next jobs: plain ones with confirms; the children of a group followed by more
    /// steps (``PlannedJob/batch``) as that batch in `ledger`. Throws ``WorkflowFanInNeedsStore`` for such a
    /// group without a ledger.
    func publish(_ planned: [PlannedJob], ledger: (any BatchLedger)?, lease: Duration) async throws {
        guard let batch = planned.first?.batch else {
            try await publish(try planned.map { try $0.request() })
            return
        }
        guard let ledger else { throw WorkflowFanInNeedsStore(batch: batch.id) }
        try await open(batch, childIDs: planned.map(\.id), requests: try planned.map { try $0.request() },
                       queue: planned.first?.queue ?? "default", ledger: ledger, lease: lease) {}
    }

    /// Opens `definition` with `childIDs` registered before any is published, publishes `requests` (chunks
    /// of 1,000), runs `inner` (nested batches), then seals it. A batch already sealed had all its children
    /// published: it is only sealed again, which publishes what is due and not enqueued yet (a step that
    /// ran twice opens its group's batch twice; nothing is counted twice).
    private func open(_ definition: BatchDefinition, childIDs: [String], requests: [JobRequest], queue: String,
                      ledger: any BatchLedger, lease: Duration, inner: () async throws -> Void) async throws {
        let coordinator = BatchMembership.coordinator(ledger: ledger, producer: self, queue: queue, lease: lease)
        if try await ledger.snapshot(definition.id)?.sealed != true, try await Self.opened(definition, childIDs, coordinator) {
            var start = 0
            while start < requests.count {
                try await publish(Array(requests[start..<min(start + 1_000, requests.count)]))
                start += 1_000
            }
            try await inner()
        }
        try await BatchMembership.waitingOutHeld(lease: lease) { try await coordinator.sealed(definition.id) }
    }

    /// Opens the batch; `false` when it completed meanwhile (a second copy of the opener, sealed and done
    /// by the first): nothing is published again.
    private static func opened(_ definition: BatchDefinition, _ childIDs: [String], _ coordinator: BatchCoordinator) async throws -> Bool {
        do {
            try await coordinator.open(definition, children: childIDs)
            return true
        } catch let refused as BatchLedgerError where refused.code == .completed {
            return false
        }
    }
}
