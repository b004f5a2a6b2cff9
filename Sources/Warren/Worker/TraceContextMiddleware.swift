/// Carries a job's W3C trace context (``WireFormat/Header/traceparent``) on to the jobs it enqueues: the
/// attempt's ``JobContext/producer`` stamps the trace parent the job arrived with. Every worker runs it first.
struct TraceContextMiddleware: HeaderGatedMiddleware {
    /// Only a job with a trace parent has one to pass on.
    var gatingHeaders: [String] { [WireFormat.Header.traceparent] }

    func handle(_ attempt: JobAttempt, next: @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        guard let trace = attempt.context.traceparent else { return try await next(attempt) }
        var traced = attempt
        traced.context.producer = attempt.context.producer.tracing(trace)
        return try await next(traced)
    }

    /// Nothing to record at settlement.
    func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) -> SettlementStart { .done }
}
