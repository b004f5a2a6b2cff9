import WarrenAMQP

extension ConfirmedPublisher {
    /// Publishes `count` messages with the confirm window full and returns each one's result, in order.
    /// `make(k)` builds message k on the connection's I/O thread just before the window has room for it
    /// (quick, no blocking); `describe(k)` names its job id and work queue for errors and metrics. Messages cut
    /// off by a lost connection or nacked (not for a full queue) are published again together, until the
    /// deadline of `rules` (default ``republishFor`` from now).
    public func publish(count: Int, rules: PublishRules? = nil, describe: (Int) -> (id: String, queue: String),
                        make: @escaping @Sendable (Int) -> OutgoingMessage) async -> [Result<Void, WarrenError>] {
        var results = [Result<Void, WarrenError>?](repeating: nil, count: count)
        let started = ContinuousClock.now
        let rules = rules ?? PublishRules(deadline: started + republishFor)
        var pending = Array(0..<count)
        var (lost, nacked) = (0, 0)
        func fail(_ k: Int, _ error: WarrenError, _ results: inout [Result<Void, WarrenError>?]) {
            results[k] = .failure(error)
            report(describe(k).queue, since: started, failure: error.code)
        }
        while !pending.isEmpty {
            do throws(WarrenError) {
                try await waitWhileBlocked(until: rules.deadline, id: describe(pending[0]).id, queue: describe(pending[0]).queue)
            } catch {
                for k in pending { fail(k, blockedError(id: describe(k).id, queue: describe(k).queue, since: started), &results) }
                break
            }
            let round = await publishOnce(pending, describe: describe, make: make, started: started, deadline: rules.deadline,
                                          results: &results)
            var next: [Int] = []
            var pause = Duration.zero
            for k in round.blocked { fail(k, blockedError(id: describe(k).id, queue: describe(k).queue, since: started), &results) }
            if !round.lost.isEmpty {
                if ContinuousClock.now < rules.deadline {
                    lost += 1
                    pause = min(.seconds(1), .milliseconds(50 * lost))
                    next += round.lost.map(\.index)
                } else {
                    for (k, error) in round.lost { fail(k, WarrenError(error, "publishing job \(describe(k).id)"), &results) }
                }
            }
            if !round.nacked.isEmpty {
                nacked += 1
                var verdicts: [String: NackDecision.Verdict] = [:]  // one length probe per queue and round
                for k in round.nacked {
                    let message = make(k)
                    let key = capacity?.limit(of: message)?.queue ?? ""
                    let verdict: NackDecision.Verdict
                    if let known = verdicts[key] { verdict = known } else {
                        verdict = await self.verdict(message, attempt: nacked, rules: rules)
                        verdicts[key] = verdict
                    }
                    if case .retry(let after) = verdict {
                        pause = max(pause, after)
                        next.append(k)
                    } else {
                        let (id, queue) = describe(k)
                        fail(k, NackDecision.error(verdict, id: id, queue: queue, waited: .now - started)!, &results)
                    }
                }
            }
            if !next.isEmpty { try? await Task.sleep(for: pause) }
            pending = next.sorted()
        }
        return results.map { $0! }
    }

    /// What one round of a batch left open: messages whose outcome a lost connection left unknown, those the
    /// broker nacked, and those whose confirm a blocked broker held past the deadline.
    private struct Round {
        var lost: [(index: Int, error: AMQPError)] = []
        var nacked: [Int] = []
        var blocked: [Int] = []
    }

    /// Publishes the messages at `pending` once, in chunks all handed to the I/O thread at once, and records
    /// each settled outcome; returns what is left open.
    private func publishOnce(_ pending: [Int], describe: (Int) -> (id: String, queue: String),
                             make: @escaping @Sendable (Int) -> OutgoingMessage, started: ContinuousClock.Instant,
                             deadline: ContinuousClock.Instant, results: inout [Result<Void, WarrenError>?]) async -> Round {
        let chunks = stride(from: 0, to: pending.count, by: Self.chunkSize).map { first in
            let range = first..<min(pending.count, first + Self.chunkSize)
            return (range, channel.beginPublishing(count: range.count) { k in make(pending[first + k]) })
        }
        var round = Round()
        for (range, batch) in chunks {
            guard round.blocked.isEmpty,
                  let outcomes = await Self.unlessBlocked(channel.connection, after: deadline, { await batch.outcomes() }) else {
                round.blocked += pending[range]
                continue
            }
            let elapsed = observer == nil ? nil : ContinuousClock.now - started  // once per chunk
            for (index, outcome) in zip(pending[range], outcomes) {
                let (id, queue) = describe(index)
                let result: Result<Void, WarrenError>
                switch outcome {
                case .success(.nacked):
                    round.nacked.append(index)
                    continue
                case .success(let o):
                    result = Self.check(o, id: id, queue: queue).map { .failure($0) } ?? .success(())
                case .failure(let error) where error.code == .connectionLost:
                    round.lost.append((index, error))
                    continue
                case .failure(let error):
                    result = .failure(WarrenError(error, "publishing job \(id)"))
                }
                results[index] = result
                if let elapsed {
                    var failure: WarrenError.Code?
                    if case .failure(let error) = result { failure = error.code }
                    report(queue, duration: elapsed, failure: failure)
                }
            }
        }
        return round
    }
}
