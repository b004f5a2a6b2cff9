/// When a finished batch's rows may be deleted by the store's sweeper (``StoreSweeper``), as a pure function
/// of a ledger snapshot (`BatchRetentionTests`); the store adds the age: every child finished longer ago than
/// the retention (``SweepPolicy/retention``, the one of finished jobs).
///
/// Settled means nothing can still happen to it: sealed with no child pending, every callback that is due
/// confirmed enqueued, and a nested batch's parent told. An open or unsealed batch, or one with a callback
/// not yet enqueued (being published, or its claimant died and the lease has to run out), is kept: deleting
/// it would lose the callback, or let a redelivered child re-open the question.
public enum BatchRetention {
    /// Whether `s` is settled (see above).
    public static func isSettled(_ s: BatchSnapshot) -> Bool {
        FanIn.isComplete(s) && FanIn.due(s).isEmpty && FanIn.parentNotice(s) == nil
    }
}
