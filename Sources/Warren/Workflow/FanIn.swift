/// The fan-in decisions of a batch, as pure functions of a ledger snapshot (`FanInTests`).
///
/// - `death` is due once a child died;
/// - `complete` once the batch is sealed and no child is pending;
/// - `success` once the batch is sealed, no child is pending and none died;
/// - a nested batch tells its parent (finishing its child there) when it completes, as dead when one of
///   its own children died.
///
/// Never early: a batch is complete only once sealed with nothing pending, and children are registered
/// before they are published (a child adding children is itself pending until it finishes). Never waits
/// forever: a dead child counts as finished.
public enum FanIn {
    /// The callbacks due and not yet enqueued, in the order they fire: death, then complete, then success.
    public static func due(_ s: BatchSnapshot) -> [BatchCallback] {
        var out: [BatchCallback] = []
        let defined = s.definition.callbacks
        if s.dead > 0, defined[.death] != nil, !s.enqueued.contains(.death) { out.append(.death) }
        if isComplete(s) {
            if defined[.complete] != nil, !s.enqueued.contains(.complete) { out.append(.complete) }
            if s.dead == 0, defined[.success] != nil, !s.enqueued.contains(.success) { out.append(.success) }
        }
        return out
    }

    /// Whether every child finished and no more can come.
    public static func isComplete(_ s: BatchSnapshot) -> Bool { s.sealed && s.pending == 0 }

    /// Whether `s` leaves anything to fire: a callback due or the parent to tell (most children's
    /// snapshots leave nothing: the batch is not complete yet).
    public static func hasWork(_ s: BatchSnapshot) -> Bool { !due(s).isEmpty || parentNotice(s) != nil }

    /// `s` as it stands once what it made due has fired: its due callbacks enqueued, its parent told.
    ///
    /// Children recorded in one group commit share one snapshot, and when it completes the batch each would
    /// fire it: one claims each callback and the others, finding it held, wait for the claim and retry
    /// (half a second each, about 250 children at the end of a large batch). The ledger hands the snapshot
    /// as it is to the first child of each batch in the commit, which fires it before its own ack (so a
    /// kill before that fire redelivers it, and it fires again), and this one to the others, which then
    /// settle at once.
    public static func afterFiring(_ s: BatchSnapshot) -> BatchSnapshot {
        var out = s
        out.enqueued.formUnion(due(s))
        if parentNotice(s) != nil { out.parentNotified = true }
        return out
    }

    /// For a completed nested batch whose parent has not been told: its child there and how it ended.
    public static func parentNotice(_ s: BatchSnapshot) -> (batch: String, child: String, outcome: ChildOutcome)? {
        guard isComplete(s), !s.parentNotified, let parent = s.definition.parent else { return nil }
        return (parent.batch, parent.child, s.dead > 0 ? .dead : .succeeded)
    }

    /// The job id of a batch's callback.
    public static func callbackID(_ callback: BatchCallback, of batch: String) -> String { "\(batch).\(callback.rawValue)" }
}
