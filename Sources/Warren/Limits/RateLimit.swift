import Foundation

/// At most ``count`` attempts of a job started per ``period`` across every worker (`200/s`, `10/min`),
/// for the job as a whole or per key from its arguments, allowing bursts of up to ``burst``.
///
/// A token bucket on the broker: the queue ``queueName(job:key:)`` holds at most ``burst`` tokens
/// (`x-max-length`, the oldest token dropped beyond it), refilled at the rate by one worker at a time, the
/// holder of the exclusive queue `<queue>.refill` (the scheduler's leader lock: a dead refiller's lock goes
/// with its connection and another worker takes over within a second). A job takes (consumes) one token
/// before it starts; waiting is parked like a ``GlobalLimit``'s, without polling and without holding a runner.
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    /// Starts allowed per ``period``.
    public var count: Int
    /// The period of ``count``.
    public var period: Duration
    /// Most tokens saved up while nobody used them: the largest burst. Default: one second's worth, at least 1.
    public var burst: Int
    /// The key a job's arguments fall under (as for ``GlobalLimit``); `nil`: one bucket for the job.
    public var keyField: String?

    /// A limit of `count` starts per `period`.
    public init(count: Int, per period: Duration, burst: Int? = nil, keyField: String? = nil) {
        self.count = max(1, count)
        self.period = period > .zero ? period : .seconds(1)
        let perSecond = Double(self.count) / self.period.seconds
        self.burst = max(1, burst ?? min(self.count, Int(perSecond.rounded(.up))))
        self.keyField = keyField
    }

    /// Parses `N/s`, `N/min`, `N/h` (also `N/sec`, `N/m`, `N/second`, `N/minute`, `N/hour`), with an optional
    /// burst: `200/s:50`.
    public init(parsing text: String) throws(WarrenError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let rate = parts[0].split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
        let units: [String: Duration] = ["s": .seconds(1), "sec": .seconds(1), "second": .seconds(1),
                                         "m": .seconds(60), "min": .seconds(60), "minute": .seconds(60),
                                         "h": .seconds(3600), "hour": .seconds(3600)]
        guard rate.count == 2, let n = Int(rate[0]), n >= 1, let period = units[rate[1].lowercased()] else {
            throw WarrenError(.invalidInput, "rate limit '\(text)' is not N/s, N/min or N/h (optionally :BURST)")
        }
        var burst: Int?
        if parts.count == 2 {
            guard let b = Int(parts[1]), b >= 1 else { throw WarrenError(.invalidInput, "burst in '\(text)' is not a positive integer") }
            burst = b
        }
        self.init(count: n, per: period, burst: burst)
    }

    /// Tokens per second.
    public var perSecond: Double { Double(count) / period.seconds }

    public var description: String { "\(count)/\(period == .seconds(1) ? "s" : period == .seconds(60) ? "min" : "\(period)") burst \(burst)" }

    /// The bucket queue of `job` for `key` (`nil`: the whole job): `warren.rate.<job>[.<key>]`.
    public func queueName(job: String, key: String?) -> String {
        "warren.rate.\(job)\(key.map { ".\($0)" } ?? "")"
    }

    /// The key of a job's arguments: the value of ``keyField``, or `nil` when there is no key field or the
    /// arguments lack it.
    func key(of arguments: [UInt8]) -> String? {
        guard let keyField else { return nil }
        return GlobalLimit.per(keyField, permits: 1).key?(arguments)
    }

    /// Tokens to add after `elapsed` with `carry` left over from the last refill: whole tokens now, and the
    /// fraction carried to the next.
    public func refill(elapsed: Duration, carry: Double) -> (tokens: Int, carry: Double) {
        let exact = carry + perSecond * max(0, elapsed.seconds)
        let whole = (exact + 1e-9).rounded(.down)  // 0.1 added ten times is 0.999...
        return (Int(whole), exact - whole)
    }
}
