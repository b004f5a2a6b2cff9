import WarrenAMQP

/// One of Warren's own middlewares that does nothing for a message without one of its headers (a batch
/// child's, a workflow step's, a trace parent's). ``MiddlewareChain`` skips it for other messages instead of
/// calling through it: each call is an async frame and a closure per job, and the three a CLI worker runs
/// cost about 6% of its CPU on a plain job (0.8-0.95 us of 13.4-14.3 us, `record` jobs, 8 alternated pairs).
protocol HeaderGatedMiddleware: JobMiddleware {
    /// The headers without which ``JobMiddleware/handle(_:next:)`` only calls `next`, and
    /// ``JobMiddleware/willSettle(_:)`` and ``JobMiddleware/startSettling(_:completion:)`` do nothing.
    var gatingHeaders: [String] { get }
}

/// Runs an attempt through a chain of middlewares, outermost first, ending in `job`, and tells them how it
/// is settled, innermost first. Per message, a ``HeaderGatedMiddleware`` without its headers is left out of
/// both, as if it were not in the chain (it would have done nothing).
struct MiddlewareChain: Sendable {
    let middlewares: [any JobMiddleware]
    /// Whether attempts are settled off their runner (``JobMiddleware/settlementWaitsForIO``): asked of
    /// each middleware once, not per job.
    let settlesOffRunner: Bool
    /// The gated middlewares: their position and their headers.
    private let gated: [(position: Int, headers: [String])]
    /// Those that run for every message.
    private let ungated: Members

    init(middlewares: [any JobMiddleware]) {
        self.middlewares = middlewares
        settlesOffRunner = middlewares.contains { $0.settlementWaitsForIO }
        var gated: [(Int, [String])] = []
        var ungated = Members()
        for (i, m) in middlewares.enumerated() {
            if let m = m as? any HeaderGatedMiddleware, i < Members.capacity {
                gated.append((i, m.gatingHeaders))
            } else {
                ungated.insert(i)
            }
        }
        self.gated = gated
        self.ungated = ungated
    }

    /// The middlewares that run for one message, by position in the chain (positions past ``capacity``
    /// always run: they are never gated).
    struct Members: Sendable, Equatable {
        static let capacity = UInt64.bitWidth
        private var bits: UInt64 = 0

        mutating func insert(_ position: Int) {
            if position < Self.capacity { bits |= 1 << UInt64(position) }
        }

        func contains(_ position: Int) -> Bool {
            position >= Self.capacity || bits & (1 << UInt64(position)) != 0
        }

        /// The first member at or after `position`, or `end` if none is before it.
        func first(from position: Int, end: Int) -> Int {
            var p = position
            while p < end, !contains(p) { p += 1 }
            return p
        }
    }

    /// The middlewares that run for a message with `headers`. A message carries a few headers: each is
    /// compared with the gating ones, no hashing.
    func members(for headers: FieldTable) -> Members {
        var members = ungated
        guard !gated.isEmpty, !headers.isEmpty else { return members }
        for key in headers.keys {
            for gate in gated where gate.headers.contains(key) { members.insert(gate.position) }
        }
        return members
    }

    /// Whether `members` (of a message's headers, ``members(for:)``) has any middleware to tell.
    func anyRuns(_ members: Members) -> Bool {
        members.first(from: 0, end: middlewares.count) < middlewares.count
    }

    nonisolated(nonsending) func run(_ attempt: JobAttempt, job: nonisolated(nonsending) @escaping @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        let members = members(for: attempt.headers)  // a middleware may change the context, never the headers
        return try await call(members.first(from: 0, end: middlewares.count), members, attempt, job)
    }

    nonisolated(nonsending) private func call(_ position: Int, _ members: Members, _ attempt: JobAttempt,
                      _ job: nonisolated(nonsending) @escaping @Sendable (JobAttempt) async throws -> JobResult) async throws -> JobResult {
        guard position < middlewares.count else { return try await job(attempt) }
        let next = members.first(from: position + 1, end: middlewares.count)
        return try await middlewares[position].handle(attempt) { attempt in try await self.call(next, members, attempt, job) }
    }

    /// Tells each middleware, innermost first, how `settlement` goes. For an `ack`, stops at the first that
    /// throws and returns its error (the attempt's failure); otherwise tells every one, returning the first error.
    nonisolated(nonsending) func willSettle(_ settlement: JobSettlement) async -> (any Error)? {
        await willSettle(settlement, members(for: settlement.headers))
    }

    /// ``willSettle(_:)`` for `members`, the middlewares of the settlement's headers its caller already has.
    nonisolated(nonsending) func willSettle(_ settlement: JobSettlement, _ members: Members) async -> (any Error)? {
        await willSettle(settlement, members, from: 0, first: nil)
    }

    /// ``willSettle(_:)`` from the `told`-th middleware from the innermost (0: the innermost), `first` the
    /// error of one told before.
    nonisolated(nonsending) private func willSettle(_ settlement: JobSettlement, _ members: Members, from told: Int,
                                                    first: (any Error)?) async -> (any Error)? {
        var first = first
        for t in told..<middlewares.count {
            let position = middlewares.count - 1 - t
            guard members.contains(position) else { continue }
            do { try await middlewares[position].willSettle(settlement) } catch {
                if case .ack = settlement.disposition { return error }
                first = first ?? error
            }
        }
        return first
    }

    /// ``willSettle(_:)`` without a task where the middlewares allow (``JobMiddleware/startSettling(_:completion:)``):
    /// each is told in the same order, the next once the previous is done; from the first that asks for
    /// ``JobMiddleware/willSettle(_:)`` on, the rest are told from a task. `completion` gets what
    /// ``willSettle(_:)`` returns, once.
    func startSettling(_ settlement: JobSettlement, completion: @escaping @Sendable ((any Error)?) -> Void) {
        tell(settlement, members(for: settlement.headers), from: 0, first: nil, completion: completion)
    }

    private func tell(_ settlement: JobSettlement, _ members: Members, from told: Int, first: (any Error)?,
                      completion: @escaping @Sendable ((any Error)?) -> Void) {
        var told = told
        while told < middlewares.count {
            let next = told + 1
            let position = middlewares.count - next
            guard members.contains(position) else {
                told = next
                continue
            }
            switch middlewares[position].startSettling(settlement, completion: { error in
                if let error, case .ack = settlement.disposition { return completion(error) }
                self.tell(settlement, members, from: next, first: first ?? error, completion: completion)
            }) {
            case .done:
                told = next
            case .started:
                return
            case .useWillSettle:
                let from = told
                Task.detached { completion(await self.willSettle(settlement, members, from: from, first: first)) }
                return
            }
        }
        completion(first)
    }
}
