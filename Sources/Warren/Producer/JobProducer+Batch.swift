import WarrenAMQP

extension JobProducer {
    /// Enqueues many jobs with up to the confirm window in flight; returns each one's id or error, in order.
    ///
    /// Requests are checked (size, queue, that the queue exists) and given their ids on the caller's thread;
    /// each message is then made on the connection's I/O thread just before the confirm window has room for
    /// it, so the caller sleeps while the batch goes out and a job's enqueue time is when it was sent. Jobs
    /// cut off by a lost connection are published again, together, once it is back (until
    /// ``publishTimeout``): a job may arrive twice, never zero times. Nacks, a full queue and a blocked broker
    /// are handled as by ``enqueue(_:)``, with the deadline and ``EnqueueOptions/waitWhenFull`` of the first
    /// request for the whole batch.
    public func enqueue(batch requests: [JobRequest]) async -> [Result<String, WarrenError>] {
        var results = [Result<String, WarrenError>?](repeating: nil, count: requests.count)
        guard let first = requests.first else { return [] }
        let rules = publisher.rules(first.options)
        do throws(WarrenError) {
            try await publisher.waitWhileBlocked(until: rules.deadline, id: first.options.jobID ?? "(batch)", queue: first.options.queue)
        } catch {
            return requests.map { _ in .failure(error) }
        }
        let slots = await prepare(requests, results: &results)
        let published = await publisher.publish(count: slots.count, rules: rules, describe: { (slots[$0].id, requests[slots[$0].index].options.queue) }) {
            [self] k in message(for: requests[slots[k].index], id: slots[k].id, mandatory: false)
        }
        for (slot, result) in zip(slots, published) { results[slot.index] = result.map { slot.id } }
        return results.map { $0! }
    }

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
}
