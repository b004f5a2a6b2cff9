/// Carries out the fan-in of batches against a ``BatchLedger``: records a child's end, then claims and
/// publishes each callback ``FanIn`` finds due, and tells a nested batch's parent. `publish` must return
/// only once the broker confirmed the job (``JobProducer``): the ledger marks a callback enqueued after it.
///
/// Killed anywhere, a redelivered child repeats the same calls: the child is counted once (by id); a
/// callback claimed but not confirmed is held until its lease runs out (the retried child fails with
/// ``BatchCallbackHeld`` meanwhile), then taken over and published with the same id; one confirmed is not
/// published again. (A second copy exists only if a publish outlasts the lease, or the worker dies between
/// the broker's confirm and the ledger's update; it has the same job id.)
public struct BatchCoordinator: Sendable {
    /// The ledger.
    public let ledger: any BatchLedger
    /// Publishes a callback job with confirms.
    public let publish: @Sendable (PlannedCallback) async throws -> Void

    /// A callback job to publish: its batch, kind, job and deterministic id (``FanIn/callbackID(_:of:)``, or
    /// the continuation's id for a callback continuing a workflow).
    public struct PlannedCallback: Sendable, Hashable {
        public var batch: String
        public var callback: BatchCallback
        public var job: WorkflowJob
        public var id: String
    }

    /// How long a claim holds before another claimant may take it over. Longer than a publish may take
    /// (``JobProducer/publishTimeout``, 30 s). Default 60 s.
    public let lease: Duration

    /// Creates a coordinator.
    public init(ledger: any BatchLedger, lease: Duration = .seconds(60),
                publish: @escaping @Sendable (PlannedCallback) async throws -> Void) {
        self.ledger = ledger
        self.lease = lease
        self.publish = publish
    }

    /// Opens `batch` with `children` registered before any is published; call ``sealed(_:)`` once they are.
    public func open(_ batch: BatchDefinition, children: [String]) async throws {
        try await ledger.open(batch)
        try await ledger.add(children: children, to: batch.id)
    }

    /// The opener published all its children: seals the batch and fires what is due (all children may have
    /// finished already).
    public func sealed(_ batch: String) async throws {
        try await fire(try await ledger.seal(batch), claimant: "\(batch).opener.\(JobID.make())")
    }

    /// Child `child` of `batch` ended with `outcome`.
    public func finished(child: String, in batch: String, outcome: ChildOutcome) async throws {
        try await fire(after: try await ledger.finish(child: child, in: batch, outcome: outcome), child: child)
    }

    /// Fires what `snapshot` (the ledger's, after child `child` was recorded) makes due: callbacks and the
    /// parent's notice, each claimed first. Nothing when ``FanIn/hasWork(_:)`` is `false`.
    public func fire(after snapshot: BatchSnapshot, child: String) async throws {
        guard FanIn.hasWork(snapshot) else { return }
        try await fire(snapshot, claimant: "\(child).\(JobID.make())")
    }

    private func fire(_ snapshot: BatchSnapshot, claimant: String) async throws {
        var snapshot = snapshot
        var depth = 0
        while depth < 64 {  // bounded nesting
            let batch = snapshot.definition.id
            for callback in FanIn.due(snapshot) {
                guard let job = snapshot.definition.callbacks[callback] else { continue }
                switch try await ledger.claim(callback, of: batch, by: claimant, at: .now, lease: lease) {
                case .enqueued: continue
                case .held: throw BatchCallbackHeld(batch: batch, what: callback.rawValue)
                case .won: break
                }
                let id = job.continuation?.jobID ?? FanIn.callbackID(callback, of: batch)
                try await publish(PlannedCallback(batch: batch, callback: callback, job: job, id: id))
                try await ledger.enqueued(callback, of: batch)
            }
            guard let notice = FanIn.parentNotice(snapshot) else { return }
            switch try await ledger.claimParentNotice(of: batch, by: claimant, at: .now, lease: lease) {
            case .enqueued: return
            case .held: throw BatchCallbackHeld(batch: batch, what: "parent notice")
            case .won: break
            }
            let parent = try await ledger.finish(child: notice.child, in: notice.batch, outcome: notice.outcome)
            try await ledger.parentNotified(of: batch)
            snapshot = parent
            depth += 1
        }
    }
}

/// A callback another claimant holds (perhaps publishing it now): the child's attempt fails and is retried;
/// by then the callback is enqueued, or the holder's lease ran out and the retry takes it over.
public struct BatchCallbackHeld: Error, Sendable, CustomStringConvertible {
    /// The batch.
    public var batch: String
    /// Which callback (or the parent notice).
    public var what: String
    public var description: String { "batch \(batch): the \(what) callback is being enqueued by another worker; retrying" }
}
