/// The broker policy Warren's deployment applies to its dead-letter queues (every queue whose name ends in
/// `.dead`): lazy mode, so their messages wait on disk instead of in the queue process's memory.
///
/// Why: a dead-letter queue is where messages pile up after an outage, 100,000 of them is ordinary, and
/// nothing consumes it until an operator looks. A classic queue in the default mode keeps such a backlog in
/// its Erlang process's heap. Every browse of it (the dashboard's dead-letters page, `warren dlq list`:
/// consume a page, then return it) then pays for that process's large heap (most likely its garbage
/// collection; not measured inside the broker): measured
/// with 100,000 dead letters, page 1 of the dashboard went from p99 236-245 ms to 41-45 ms once lazy
/// (`scripts/bench-dashboard.sh`). It also keeps the broker's memory, and so its memory alarm, away from
/// them. Quorum queues ignore the key: they keep bodies on disk already.
///
/// A policy rather than a queue argument: existing queues take it without being declared anew (a changed
/// `x-` argument would make every declare fail with PRECONDITION_FAILED). It is applied by
/// `deploy/rabbitmq-local.sh`, `deploy/rabbitmq-cluster.sh` and the definitions files
/// (`warren topology definitions`). A broker holds one policy per queue, the one with the highest priority:
/// an operator's own policy matching these queues replaces it unless it sets `queue-mode` too.
public enum DeadLetterPolicy {
    /// Policy name.
    public static let name = "warren-dead-letters"
    /// Queue-name pattern (a regular expression): Warren's dead-letter queues (``WireFormat/deadLetterQueue(for:)``).
    public static let pattern = #"\.dead$"#
    /// What it sets.
    public static let definition = ["queue-mode": "lazy"]
    /// Priority among policies (0: any operator policy of higher priority wins).
    public static let priority = 0
}
