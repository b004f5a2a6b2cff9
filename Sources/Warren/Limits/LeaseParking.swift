import Logging
import WarrenAMQP

/// Takes jobs over a limit across workers (``RateLimit``, ``GlobalLimit``) off the worker's runners until
/// they may start: the runner is free at once to run other jobs, and the job comes back to the next free
/// runner, ahead of new deliveries, once it took its rate token and holds its lease. Its delivery stays
/// unacked meanwhile (it holds a prefetch place, not a runner).
struct LeaseParking: Sendable {
    let leases: GlobalLeases
    let rates: RateBuckets
    /// Limits by job name.
    let global: [String: GlobalLimit]
    let rate: [String: RateLimit]
    let buffer: DeliveryBuffer
    let logger: Logger

    /// What a job must wait for before it starts.
    struct Needs: Sendable {
        var rate: (queue: String, limit: RateLimit)?
        var lease: (queue: String, permits: Int)?
    }

    /// What a job named `job` with `arguments` must wait for, or `nil` when it may start at once.
    func needs(job: String, arguments: [UInt8]) -> Needs? {
        var needs = Needs()
        if let r = rate[job], r.keyField == nil || r.key(of: arguments) != nil {
            needs.rate = (r.queueName(job: job, key: r.key(of: arguments)), r)
        }
        if let g = global[job] {
            var key: String?
            if let keyOf = g.key { key = keyOf(arguments) }
            if g.key == nil || key != nil { needs.lease = (g.queueName(job: job, key: key), g.permits) }
        }
        return needs.rate == nil && needs.lease == nil ? nil : needs
    }

    /// Parks `item` until it took its rate token and holds its lease. At shutdown, or when the broker fails
    /// the wait (the delivery is then given back after a pause), the item leaves the buffer unrun.
    func park(_ item: DeliveryBuffer.Item, _ needs: Needs) {
        buffer.park()
        Task { [leases, rates, buffer, logger] in
            do throws(AMQPError) {
                var admitted = item
                admitted.admitted = true
                if let r = needs.rate, try await !rates.take(r.queue, limit: r.limit) { return buffer.unpark() }
                if let g = needs.lease {
                    guard let lease = try await leases.acquire(g.queue, permits: g.permits) else { return buffer.unpark() }
                    admitted.lease = lease
                }
                buffer.pushLeased(admitted)
                return
            } catch {
                logger.error("could not wait for a limit across workers; giving the job back to the broker",
                             metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))  // do not spin on a broken limit
                try? await item.delivery.nack(requeue: true)
            }
            buffer.unpark()
        }
    }

    /// Stops the waits (shutdown): parked jobs are left to the broker.
    func stopWaiting() {
        rates.stopWaiting()
        leases.stopWaiting()
    }

    /// Gives back every lease and stops the refillers (after the jobs ended).
    func close() async {
        await rates.close()
        await leases.close()
    }

    /// The parking for a registry's limits, or `nil` when it has none.
    static func make(_ registry: JobRegistry, connection: AMQPConnection, mode: Topology.Mode, buffer: DeliveryBuffer,
                     logger: Logger) -> LeaseParking? {
        var global: [String: GlobalLimit] = [:]
        var rate: [String: RateLimit] = [:]
        for name in registry.names {
            if let l = registry[name]?.globalLimit { global[name] = l }
            if let r = registry[name]?.rateLimit { rate[name] = r }
        }
        guard !global.isEmpty || !rate.isEmpty else { return nil }
        return LeaseParking(leases: GlobalLeases(connection: connection, mode: mode, logger: logger),
                            rates: RateBuckets(connection: connection, logger: logger),
                            global: global, rate: rate, buffer: buffer, logger: logger)
    }
}
