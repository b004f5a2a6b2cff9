import WarrenAMQP

/// How a failing job is retried: up to ``maxAttempts`` attempts in all, waiting an exponential backoff with
/// jitter between them (through the delay levels: nothing waits in worker memory). Then it is dead-lettered.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included. 1 means no retry.
    public var maxAttempts: Int
    /// Wait before retry n: `min(cap, base * 2^(n-1))`, with a jitter fraction randomised.
    public var backoff: Backoff

    /// Creates a policy.
    public init(maxAttempts: Int, backoff: Backoff = Backoff(base: .seconds(1), cap: .seconds(300), jitter: 0.2)) {
        self.maxAttempts = max(1, maxAttempts)
        self.backoff = backoff
    }

    /// 5 attempts, 1 s doubling to at most 5 min, 20 % jitter.
    public static let `default` = RetryPolicy(maxAttempts: 5)
    /// One attempt: failures go straight to the dead-letter queue.
    public static let never = RetryPolicy(maxAttempts: 1)

    /// The wait before attempt `next` (2 = first retry), with random jitter.
    public func delay(beforeAttempt next: Int) -> Duration {
        backoff.delay(attempt: next - 1)
    }

    /// The wait before attempt `next` with the jitter fixed by `jitter` (0...1), for pure decisions.
    public func delay(beforeAttempt next: Int, jitter: Double) -> Duration {
        backoff.delay(attempt: next - 1, unit: jitter)
    }
}
