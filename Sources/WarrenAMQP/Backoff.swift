/// Exponential backoff with jitter: attempt *n* (1-based) waits `min(cap, base * 2^(n-1))`, of which a
/// `jitter` fraction is randomised. Shared by connection recovery and job retries.
public struct Backoff: Sendable, Hashable, Codable {
    /// Delay before the first retry.
    public var base: Duration
    /// Largest delay.
    public var cap: Duration
    /// Fraction of the delay that is random, 0...1: 0 is no jitter, 1 is "full jitter".
    public var jitter: Double

    /// Creates a backoff.
    public init(base: Duration, cap: Duration, jitter: Double) {
        self.base = base
        self.cap = cap
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before retry number `attempt` (1 = first retry), with random jitter.
    public func delay(attempt: Int) -> Duration {
        delay(attempt: attempt, unit: Double.random(in: 0...1))
    }

    /// The delay before retry number `attempt` with the random part fixed by `unit` (0...1: 0 the shortest
    /// delay the jitter allows, 1 the longest). Deterministic, for decisions that are pure functions.
    public func delay(attempt: Int, unit: Double) -> Duration {
        let doubled = base * Double(sign: .plus, exponent: max(0, min(attempt - 1, 62)), significand: 1)
        let raw = min(cap, doubled)
        let fixed = raw * (1 - jitter)
        return fixed + (raw - fixed) * min(max(unit, 0), 1)
    }
}
