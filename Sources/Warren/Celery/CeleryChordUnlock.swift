import Foundation
import WarrenAMQP

/// Runs Celery's `celery.chord_unlock` task on a Swift worker with a job store, so chords a Celery app
/// sends (with a result backend without native join) run on Swift workers: register it with
/// ``register(in:store:lease:)`` (`warren worker --celery` does when `WARREN_STORE` is set).
///
/// Each attempt reads the header tasks' states from the store (``JobStore/status(_:)``, recorded there by
/// the worker's ``JobTracker`` under their Celery ids) and acts on ``CeleryChord/decide(_:retries:)``:
/// - all succeeded: publishes the body as a Celery message to its queue (its `queue` option, else the
///   unlock's queue, which Celery chose from the body's route), its args the list of header results
///   prepended (`callback.delay(results)`), under its frozen task id, with confirms, before the unlock is acked;
/// - some not finished: ``RetryLater`` after the chord's interval (no runner waits);
/// - a header task died, or `max_retries` polls passed: publishes the body's `link_error` signatures (each
///   given the body's task id, as Celery's `chord_error_from_stack`) if it has any, else dead-letters the
///   unlock `non-retryable` with the reason listing the tasks.
///
/// Exactly once: the body (and the errbacks) are claimed in the store's ledger under `celery-chord.<group>`
/// (a batch without children or callbacks, so the sweeper deletes it and its claims after the retention)
/// before they are published and marked enqueued after the confirm (as batch callbacks are,
/// ``BatchLedger``), so a second copy of the unlock publishes nothing again; one killed between the claim
/// and the confirm leaves a claim that its redelivery takes over once `lease` ran out.
public enum CeleryChordUnlock {
    /// The Celery task name.
    public static let jobName = "celery.chord_unlock"

    /// Registers the unlock on `registry`. Without a store (or one without a batch ledger) every unlock is
    /// dead-lettered `non-retryable` naming `WARREN_STORE` instead of waiting for results nobody records.
    public static func register(in registry: inout JobRegistry, store: (any JobStore)?, lease: Duration = .seconds(60)) {
        // Attempts are polls, bounded by the chord's max_retries in the handler; other failures (store or
        // broker unavailable) back off up to 30 s and count as polls.
        let policy = RetryPolicy(maxAttempts: Int(Int32.max), backoff: Backoff(base: .seconds(1), cap: .seconds(30), jitter: 0.2))
        registry.register(name: jobName, retry: policy, positionalArguments: ["group_id", "callback"]) { arguments, context in
            let chord = try CeleryChord(unlockArguments: arguments)
            guard let store, let ledger = store.batchLedger else {
                throw JobFailure.permanent(StoreError.notConfigured("Celery chord \(chord.groupID) (celery.chord_unlock)").message
                                           + "; requeue this dead letter to a worker with WARREN_STORE set")
            }
            try await unlock(chord, store: store, ledger: ledger, context: context, lease: lease)
        }
    }

    /// One poll of `chord`.
    static func unlock(_ chord: CeleryChord, store: any JobStore, ledger: any BatchLedger, context: JobContext, lease: Duration) async throws {
        if context.attempt - 1 > chord.maxRetries {  // earlier attempts failed before deciding (store or broker down)
            throw JobFailure.permanent("Celery chord \(chord.groupID) gave up after \(context.attempt - 1) attempts (max_retries "
                                       + "\(chord.maxRetries)) without reading its header tasks' states; the body does not run")
        }
        var statuses: [JobStatus] = []
        for id in chord.headerTaskIDs { statuses.append(try await store.status(id)) }
        switch chord.decide(statuses, retries: context.attempt - 1) {
        case .ready(let results):
            let body = try bodyMessage(chord, results: results, unlock: context.jobID, queue: context.queue)
            try await once(.success, chord, ledger: ledger, lease: lease, context: context) { [body] in
                try await context.producer.publisher.publish(body.message, id: body.id, queue: body.queue)
                // Logged as soon as confirmed, before the claim is marked: a kill in between republishes it, logged again.
                context.logger.info("Celery chord complete: body published", metadata: ["chord": "\(chord.groupID)", "body.id": "\(chord.bodyID)"])
            }
        case .wait(let pending):
            throw RetryLater(after: chord.interval, "Celery chord \(chord.groupID): waiting for \(pending.count) of "
                             + "\(chord.headerTaskIDs.count) header task(s): \(pending.prefix(5).joined(separator: ", "))")
        case .failed(_, let why), .gaveUp(_, let why):
            let errbacks = try errbackMessages(chord, unlock: context.jobID, queue: context.queue)
            guard !errbacks.isEmpty else { throw JobFailure.permanent(why) }
            try await once(.death, chord, ledger: ledger, lease: lease, context: context) {
                for m in errbacks { try await context.producer.publisher.publish(m.message, id: m.id, queue: m.queue) }
            }
            context.logger.error("Celery chord failed: the body's link_error published", metadata: ["chord": "\(chord.groupID)", "why": "\(why)"])
        }
    }

    /// Claims `what` of the chord in the ledger, runs `publish` if this attempt won, then marks it enqueued.
    /// Held by another claimant (perhaps publishing now): waits for it, as a poll.
    private static func once(_ what: BatchCallback, _ chord: CeleryChord, ledger: any BatchLedger, lease: Duration,
                             context: JobContext, publish: () async throws -> Void) async throws {
        let key = "celery-chord.\(chord.groupID)"
        // A sealed batch without children or callbacks holds the claims, so the store's sweeper deletes them
        // with it once the retention has passed (both calls are idempotent).
        try await ledger.open(BatchDefinition(id: key, callbacks: [:]))
        _ = try await ledger.seal(key)
        switch try await ledger.claim(what, of: key, by: "\(context.jobID).\(JobID.make())", at: .now, lease: lease) {
        case .enqueued:
            context.logger.info("Celery chord already unlocked: nothing published again", metadata: ["chord": "\(chord.groupID)"])
        case .held:
            throw RetryLater(after: chord.interval, "Celery chord \(chord.groupID): its \(what == .success ? "body" : "link_error") "
                             + "is being published by another unlock; waiting for it")
        case .won:
            try await publish()
            try await ledger.enqueued(what, of: key)
        }
    }

    /// The body as a Celery message sent by the unlock `unlock` from `queue`: its args the header results
    /// prepended (unless immutable).
    static func bodyMessage(_ chord: CeleryChord, results: [String], unlock: String, queue: String) throws -> CeleryCanvas.Message {
        try CeleryCanvas.message(chord.bodySignature, prefix: CeleryChord.resultList(results), chain: [], id: chord.bodyID,
                                        parent: unlock, root: unlock, queue: queue)
    }

    /// The body's `link_error` signatures as Celery messages, each given the body's task id.
    static func errbackMessages(_ chord: CeleryChord, unlock: String, queue: String) throws -> [CeleryCanvas.Message] {
        let options = chord.bodySignature["options"] as? [String: Any] ?? [:]
        var out: [CeleryCanvas.Message] = []
        for (i, e) in CeleryCanvas.signatures(options["link_error"]).enumerated() {
            guard let e = e as? [String: Any] else { continue }
            out.append(try CeleryCanvas.message(e, prefix: [chord.bodyID], chain: [], id: "\(chord.bodyID).link-error-\(i + 1)",
                                                parent: chord.bodyID, root: unlock, queue: queue))
        }
        return out
    }
}
