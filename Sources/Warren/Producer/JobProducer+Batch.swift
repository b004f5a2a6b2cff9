import WarrenAMQP

extension JobProducer {
    /// Enqueues many jobs with up to the confirm window in flight; returns each one's id or error, in order.
    ///
    /// Requests are checked (size, queue, that the queue exists) and given their ids on the caller's thread;
    /// each message is then made on the connection's I/O thread just before the confirm window has room for
    /// it, so the caller sleeps while the batch goes out and a job's enqueue time is when it was sent. Jobs
    /// cut off by a lost connection are published again, together, once it is back (until
    /// ``publishTimeout``): a job may arrive twice, never zero times.
    public func enqueue(batch requests: [JobRequest]) async -> [Result<String, WarrenError>] {
        var results = [Result<String, WarrenError>?](repeating: nil, count: requests.count)
        let slots = await prepare(requests, results: &results)
        let started = ContinuousClock.now
        var pending = Array(slots.indices)
        var attempt = 0
        while !pending.isEmpty {
            let lost = await publish(pending, of: slots, requests, started: started, results: &results)
            guard !lost.isEmpty else { break }
            guard ContinuousClock.now < started + publishTimeout else {
                for (k, error) in lost { results[slots[k].index] = .failure(WarrenError(error, "enqueueing job \(slots[k].id)")) }
                break
            }
            attempt += 1
            await Self.pauseBeforeRepublishing(attempt: attempt)
            pending = lost.map(\.slot)
        }
        return results.map { $0! }
    }

    /// Jobs per chunk of a batch: outcomes are collected and reported a chunk at a time.
    static let chunkSize = 500

    /// The requests that can be published, each with its job id; the others get their error in `results`.
    private func prepare(_ requests: [JobRequest], results: inout [Result<String, WarrenError>?]) async -> [(index: Int, id: String)] {
        let targets = requests.map(target(of:))
        var distinct = Set<String>()
        var previous: String?
        for target in targets where target != previous {  // a batch mostly goes to one queue: hash it once
            distinct.insert(target)
            previous = target
        }
        var unroutable: [String: WarrenError] = [:]
        for target in distinct {
            do throws(WarrenError) { try await routes.verify(target) } catch { unroutable[target] = error }
        }
        var slots: [(index: Int, id: String)] = []
        slots.reserveCapacity(requests.count)
        for (i, request) in requests.enumerated() {
            if !unroutable.isEmpty, let error = unroutable[targets[i]] {
                results[i] = .failure(error)
                continue
            }
            do throws(WarrenError) {
                try validate(request)
                slots.append((i, request.options.jobID ?? JobID.make()))
            } catch {
                results[i] = .failure(error)
            }
        }
        return slots
    }

    /// Publishes the slots at `pending` once, in chunks all handed to the I/O thread at once, and records each
    /// outcome; returns the slots whose outcome the connection's loss left unknown.
    private func publish(_ pending: [Int], of slots: [(index: Int, id: String)], _ requests: [JobRequest],
                         started: ContinuousClock.Instant,
                         results: inout [Result<String, WarrenError>?]) async -> [(slot: Int, error: AMQPError)] {
        let chunks = stride(from: 0, to: pending.count, by: Self.chunkSize).map { first in
            let range = first..<min(pending.count, first + Self.chunkSize)
            return (range, channel.beginPublishing(count: range.count) { [self] k in
                let (index, id) = slots[pending[first + k]]
                return message(for: requests[index], id: id, mandatory: false)
            })
        }
        var lost: [(slot: Int, error: AMQPError)] = []
        for (range, batch) in chunks {
            let outcomes = await batch.outcomes()
            let elapsed = observer == nil ? nil : ContinuousClock.now - started  // once per chunk
            for (slot, outcome) in zip(pending[range], outcomes) {
                let (index, id) = slots[slot]
                let queue = requests[index].options.queue
                let result: Result<String, WarrenError>
                switch outcome {
                case .success(let o):
                    result = Self.check(o, id: id, queue: queue).map { id }
                case .failure(let error) where error.code == .connectionLost:
                    lost.append((slot, error))
                    continue
                case .failure(let error):
                    result = .failure(WarrenError(error, "enqueueing job \(id)"))
                }
                results[index] = result
                if let elapsed { observer?.published(queue: queue, duration: elapsed, ok: (try? result.get()) != nil) }
            }
        }
        return lost
    }
}
