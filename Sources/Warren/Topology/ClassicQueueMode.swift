import WarrenAMQP

extension Topology {
    /// Where classic work queues keep the jobs that wait (`x-queue-mode`, declared on every lane). Quorum
    /// queues and queues declared by another system (``Queue/external``) never get the argument; dead-letter
    /// queues are lazy by a broker policy instead (``DeadLetterPolicy``).
    ///
    /// What a backlog costs the broker in each mode (docs/operations.md, "Queue mode"). A classic queue in
    /// RabbitMQ's default mode keeps every waiting message in its Erlang process's memory, and a body longer
    /// than 64 bytes (a job's JSON arguments always are) is a reference-counted binary on that process's
    /// list of off-heap objects. Every garbage collection of the queue's process walks that whole list, so
    /// each delivery costs the broker more the longer the backlog: in a profile of RabbitMQ 3.10 draining
    /// 60,000 `record` jobs that walk was a third of the broker's CPU. A lazy queue writes messages to disk
    /// on arrival (persistent jobs are written anyway) and reads them back in pages, so it holds few of them
    /// and its cost per delivery does not grow with the backlog, but it pays for the reads: in alternated drains,
    /// lazy was faster with backlogs of 30,000-50,000 `record` jobs (1.2-1.75x in 10 pairs of 11), slower with
    /// 20,000 (6 pairs of 8), and even with 100,000 (1 of 2). Memory is bounded too: a backlog of millions of jobs
    /// does not raise the broker's memory alarm, which blocks every publisher. RabbitMQ 3.12 and later keep
    /// classic queues lazily whatever the argument says. So the default stays RabbitMQ's own, and lazy is
    /// the choice for queues that take large backlogs.
    public enum ClassicQueueMode: String, Sendable, Hashable, Codable, CaseIterable {
        /// `x-queue-mode=lazy`: waiting jobs on disk.
        case lazy
        /// No `x-queue-mode` argument: RabbitMQ's default mode, waiting jobs in memory. The default.
        case `default`
    }

    /// The `x-queue-mode` argument a classic work queue gets, if any.
    func queueModeArguments() -> FieldTable {
        mode == .classic && classicQueueMode == .lazy ? ["x-queue-mode": "lazy"] : [:]
    }
}
