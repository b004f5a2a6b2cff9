/// Exponential backoff with jitter: attempt *n* (1-based) waits `min(cap, base * 2^(n-1))`, of which a
/// `jitter` fraction is randomised. Shared by connection recovery and job retries.
public struct Backoff: Sendable, Hashable, Codable {
    /// Delay before the first retry, in seconds.
    public var base: Double
    /// Largest delay, in seconds.
    public var cap: Double
    /// Fraction of the delay that is random, 0...1: 0 is no jitter, 1 is "full jitter".
    public var jitter: Double

    /// Creates a backoff.
    public init(base: Double, cap: Double, jitter: Double) {
        self.base = base
        self.cap = cap
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay in seconds before retry number `attempt` (1 = first retry).
    public func delay(attempt: Int) -> Double {
        let raw = min(cap, base * Double(sign: .plus, exponent: max(0, min(attempt - 1, 62)), significand: 1))
        let fixed = raw * (1 - jitter)
        return fixed + Double.random(in: 0...max(raw - fixed, 0))
    }

}
