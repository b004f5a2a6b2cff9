/// Names of the metrics Warren exports (Prometheus conventions: base units, `_total` on counters).
public enum MetricName {
    /// Fires published by this scheduler replica, by `schedule` and `caught_up`.
    public static let schedulerFires = "warren_scheduler_fires_total"
    /// Publish time minus fire time of scheduled jobs, by `schedule`.
    public static let schedulerLateness = "warren_scheduler_fire_lateness_seconds"
    /// 1 while this scheduler replica leads its group, else 0.
    public static let schedulerLeader = "warren_scheduler_leader"
    /// Attempts started, by `job` and `queue`.
    public static let jobsStarted = "warren_jobs_started_total"
    /// Attempts that succeeded (acked), by `job` and `queue`.
    public static let jobsSucceeded = "warren_jobs_succeeded_total"
    /// Attempts that failed (threw or timed out), whatever happened next, by `job` and `queue`.
    public static let jobsFailed = "warren_jobs_failed_total"
    /// Failed attempts scheduled for another attempt, by `job` and `queue`.
    public static let jobsRetried = "warren_jobs_retried_total"
    /// Jobs sent to the dead-letter queue after running, by `job` and `queue`.
    public static let jobsDeadLettered = "warren_jobs_dead_lettered_total"
    /// Early arrivals sent round the delay levels again, by `job` and `queue`.
    public static let jobsDeferred = "warren_jobs_deferred_total"
    /// Attempts whose settlement was lost with the connection (the broker redelivers them), by `job` and `queue`.
    public static let jobsAbandoned = "warren_jobs_abandoned_total"
    /// Iterable jobs interrupted (shutdown, time limit) and republished with their cursor, by `job` and `queue`.
    public static let jobsInterrupted = "warren_jobs_interrupted_total"
    /// Deliveries dead-lettered before any job ran (undecodable, unknown job, oversized, expired), by `queue` and `reason`.
    public static let messagesRejected = "warren_messages_rejected_total"
    /// Attempt duration histogram in seconds, by `job` and `queue`.
    public static let jobDuration = "warren_job_duration_seconds"
    /// Attempts running now, by `job` and `queue`.
    public static let jobsInFlight = "warren_jobs_in_flight"
    /// 1 while the broker connection is up, 0 while it is down or recovering.
    public static let connectionUp = "warren_connection_up"
    /// 1 while the broker blocks publishing (memory or disk alarm).
    public static let connectionBlocked = "warren_connection_blocked"
    /// Connection losses.
    public static let disconnects = "warren_disconnects_total"
    /// Successful recoveries after a connection loss.
    public static let reconnects = "warren_reconnects_total"
    /// Messages ready in a queue (sampled by passive declare), by `queue`.
    public static let queueMessages = "warren_queue_messages"
    /// Consumers of a queue (sampled), by `queue`.
    public static let queueConsumers = "warren_queue_consumers"
    /// Publishes that failed for good, by `queue` and `reason` (`queueFull`, `brokerBlocked`, `nacked`,
    /// `unroutable`, `broker`...): a full queue or a blocked broker shows here first.
    public static let publishFailures = "warren_publish_failures_total"
    /// Time from publish to broker confirm (or failure), in seconds, by `queue` and `result` (`ok`, `error`).
    public static let publishConfirm = "warren_publish_confirm_seconds"

    static let jobDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900),
    ]
    static let publishConfirmBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(1000), .seconds(5), .seconds(30),
    ]
}
