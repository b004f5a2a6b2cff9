import WarrenAMQP

/// The Warren message format, version 1: the contract between producers in any language and Swift workers.
/// `docs/wire-format.md` is its human description; this file is its single source of names in code.
///
/// A job is one AMQP message:
/// - published to exchange ``workExchange`` (direct) with routing key = queue name, or to ``delayExchange``
///   with a delay routing key (see ``DelayRouting``);
/// - properties: `message_id` = job id, `content_type` = ``contentType`` or absent, `delivery_mode` = 2,
///   `type` = the job name (or header ``Header/job``), `timestamp` = when it was enqueued (seconds), optional
///   `priority`, `correlation_id`;
/// - headers: ``Header``, all optional when `type` names the job (see ``jobName(_:)``);
/// - body: the job's arguments as JSON (an object for typed jobs; empty means `{}`).
public enum WireFormat {
    /// Format version written in ``Header/version``. Readers accept messages without it as version 1.
    public static let version = 1
    /// Content type of job bodies. Readers take an absent `content_type` as this one, and Warren's own
    /// producers leave it out (since 2026-12-02): its 17 bytes put a job's encoded properties over 64, and
    /// RabbitMQ 3.10 keeps a binary of more than 64 bytes off the queue process's heap, on a list that
    /// process walks at every garbage collection, so each waiting job costs every delivery a little more.
    /// Measured with `rawc drain` of 50,000 jobs (same bodies, properties with and without it, four rounds
    /// alternated): broker CPU 66-79 against 52-57 us per message, drain 14,002-17,207 against
    /// 20,684-22,816 messages/s (docs/wire-format.md, "Why `type`").
    public static let contentType = "application/json"

    /// Direct exchange: routing key = work queue name.
    public static let workExchange = "warren"
    /// Topic exchange for delayed delivery: routing key = 32 binary digits of the delay in ms, then the queue.
    public static let delayExchange = "warren.delay"
    /// Topic exchange where the last delay level hands messages back to their work queues.
    public static let deliverExchange = "warren.delay.deliver"
    /// Direct exchange for dead letters: routing key = work queue name, bound to `<queue>.dead`.
    public static let deadExchange = "warren.dead"

    /// Fanout exchange bound to ``workExchange``: a batch child whose job id is `<batch>.<k>` is published
    /// here, without the `warren-batch` header, and the worker reads its batch from the delivery's exchange
    /// and id (``BatchRoute``). The message reaches the same queue; its properties stay within 64 bytes for
    /// short job names, which RabbitMQ 3.10 keeps on the queue process's heap (see ``contentType``).
    public static let batchExchange = "warren.batch"

    /// Fanout exchange (and queue of the same name) where messages that no queue takes are parked: the
    /// alternate exchange of ``workExchange``, ``deliverExchange`` and ``deadExchange``.
    public static let unroutableExchange = "warren.unroutable"

    /// The job a message names: header ``Header/job`` if present, else the AMQP `type` property; `nil` when
    /// it names none (then it may be a foreign format's, or undecodable).
    ///
    /// Warren's producers write the name in `type` and no header table at all for a first attempt with
    /// default options: RabbitMQ 3.10 costs about a fifth more CPU per message, published and delivered,
    /// when a message carries any header table (measured with `rawc drain` on otherwise identical
    /// messages, docs/wire-format.md, "Why `type`"). The header still wins when both are present, so
    /// producers written for the header keep working.
    public static func jobName(_ properties: BasicProperties) -> FieldValue? {
        if let headers = properties.headers, let value = headers[Header.job] { return value }
        return typeName(properties)
    }

    /// The job name the `type` property gives, when it is set and not empty.
    static func typeName(_ properties: BasicProperties) -> FieldValue? {
        guard let type = properties.type, !type.isEmpty else { return nil }
        return .string(type)
    }

    /// The dead-letter queue of a work queue.
    public static func deadLetterQueue(for queue: String) -> String { "\(queue).dead" }

    /// Header names. Times are integers, milliseconds since the Unix epoch (UTC).
    public enum Header {
        /// Format version (integer). Optional; default 1.
        public static let version = "warren-version"
        /// Job name (string). Required unless the AMQP `type` property names the job (``jobName(_:)``).
        public static let job = "warren-job"
        /// 1-based attempt number of this delivery (integer). Default 1.
        public static let attempt = "warren-attempt"
        /// Most attempts before dead-lettering (integer). Default: the worker's policy for the job.
        public static let maxAttempts = "warren-max-attempts"
        /// When the job was first enqueued (ms). Absent: the `timestamp` property (seconds), refined to the
        /// millisecond by a version-7 `message_id` made in that second or the one before
        /// (``JobEnvelope/enqueuedTime(_:id:)``).
        public static let enqueuedAt = "warren-enqueued-at"
        /// The work queue the job belongs to (string); set by Warren, used to requeue dead letters.
        public static let queue = "warren-queue"
        /// Do not run before this time (ms). A worker that gets the job earlier delays it again.
        public static let runAt = "warren-run-at"
        /// Do not run after this time (ms): the job is dead-lettered as `expired` instead.
        public static let expiresAt = "warren-expires-at"
        /// Type of the last error (string), set on retries and dead letters.
        public static let errorType = "warren-error-type"
        /// Message of the last error (string).
        public static let errorMessage = "warren-error-message"
        /// Time of the first failure (ms).
        public static let firstFailedAt = "warren-first-failed-at"
        /// Time of the last failure (ms).
        public static let lastFailedAt = "warren-last-failed-at"
        /// Host name of the worker that failed last (string).
        public static let failedHost = "warren-failed-host"
        /// Failure history, newest last, at most ``WireFormat/historyLimit`` entries: an array of tables
        /// `{attempt, type, message, at, host}`.
        public static let errors = "warren-errors"
        /// Why the job is in a dead-letter queue (string, a ``DeadLetterReason`` raw value).
        public static let deadReason = "warren-dead-reason"
        /// When it was dead-lettered (ms).
        public static let deadAt = "warren-dead-at"
        /// Where an iterable job resumes (string, the JSON of its cursor): the cursor of the last item that
        /// succeeded. Set by the worker when the job is interrupted (shutdown, time limit) and on retries and
        /// dead letters after progress; absent: start from the first item.
        public static let cursor = "warren-cursor"
        /// W3C trace context, carried into logs and into follow-up jobs.
        public static let traceparent = "traceparent"
        /// W3C trace state.
        public static let tracestate = "tracestate"
    }

    /// How many failures the ``Header/errors`` history keeps.
    public static let historyLimit = 10
}

/// Why a job was dead-lettered; the value of ``WireFormat/Header/deadReason``.
public enum DeadLetterReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// Failed on every allowed attempt.
    case exhausted
    /// Failed with an error marked non-retryable.
    case nonRetryable = "non-retryable"
    /// The body or headers could not be read as a Warren job (bad JSON, missing job name, wrong content type).
    case undecodable
    /// No job of that name is registered on the worker that received it.
    case unknownJob = "unknown-job"
    /// The arguments do not fit the job (missing or wrongly typed fields).
    case invalidArguments = "invalid-arguments"
    /// Larger than the worker's message size limit.
    case oversized
    /// Arrived after its ``WireFormat/Header/expiresAt`` time.
    case expired
    /// Uses a feature Warren does not support (e.g. Celery chords or result backends).
    case unsupported
    /// Dead-lettered by the broker (rejected, delivery limit, queue length or TTL), not by a worker.
    case broker
}
