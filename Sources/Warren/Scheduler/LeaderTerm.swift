import Foundation
import Logging
import WarrenAMQP

/// What a replica does on one connection: declare, win the lock, catch up from the broker's records, then
/// publish each fire on time until cancelled. Any broker error ends the term; the next term starts over
/// from the records in the broker, so an unknown outcome is never guessed at.
struct LeaderTerm: Sendable {
    let service: SchedulerService
    let connection: AMQPConnection

    private var schedules: [ScheduleDefinition] { service.schedules }
    private var configuration: SchedulerConfiguration { service.configuration }
    private var logger: Logger { service.logger }
    private var ledger: FireLedger { FireLedger(configuration: configuration, mode: service.topology.mode) }

    func run() async throws {
        let lockChannel = try await connection.openChannel()
        if configuration.declareTopology {
            try await service.topology.declareShared(on: lockChannel)
            for name in SchedulerService.queueNames(schedules) {
                try await service.topology.declare(service.topology.queue(named: name), on: lockChannel)
            }
        }
        try await ledger.declare(schedules, on: lockChannel)
        let producer = try await JobProducer(connection: connection, topology: service.topology)
        try await acquireLock(on: lockChannel)

        service.setLeading(true)
        logger.info("leading: this replica publishes the schedules", metadata: ["group": "\(configuration.group)"])
        var last: [Date?] = []
        for s in schedules { last.append(try await ledger.lastFired(s.name, on: producer.channel)) }
        let now = Date()
        var missed: [(schedule: Int, fire: Date)] = []
        for (i, s) in schedules.enumerated() {
            let fires = FirePlan.catchUp(s, lastFired: last[i], now: now, lateWindow: configuration.lateFireWindow.seconds)
            missed += fires.map { (i, $0) }
        }
        if !missed.isEmpty {
            logger.info("publishing fires missed since the last leader", metadata: ["fires": "\(missed.count)"])
            try await publish(missed.sorted { $0.fire < $1.fire }, on: producer, caughtUp: true)
        }
        // Never before the recorded fire: a replica whose clock lags the last leader's waits instead of repeating.
        var plan = schedules.indices.compactMap { i in
            FirePlan.next(schedules[i], index: i, after: max(now, last[i] ?? now))
        }
        try await fire(&plan, on: producer)
    }

    private func acquireLock(on channel: AMQPChannel) async throws {
        var announced = false
        while try await !SchedulerLock.tryAcquire(configuration.lockQueue, on: channel) {
            if !announced {
                logger.info("following: another replica leads; retrying the lock", metadata: ["group": "\(configuration.group)"])
                announced = true
            }
            let base = configuration.lockRetryInterval
            try await Task.sleep(for: base + base * Double.random(in: 0...0.25))
        }
    }

    /// Sleeps until the soonest publish time, publishes what is due, and moves those schedules on.
    private func fire(_ plan: inout [FirePlan.Entry], on producer: JobProducer) async throws {
        while true {
            guard let soonest = plan.map(\.publishAt).min() else {
                try await Task.sleep(for: .seconds(3600))  // every trigger is done; keep the lock until stopped
                continue
            }
            let wait = soonest.timeIntervalSinceNow
            if wait > 0 {
                // At most a second at a time, so wall-clock changes are noticed.
                try await Task.sleep(until: .now + .seconds(min(wait, 1)), clock: .continuous)
                continue
            }
            let now = Date()
            let due = plan.indices.filter { plan[$0].publishAt <= now }.sorted { plan[$0].fire < plan[$1].fire }
            try await publish(due.map { (plan[$0].schedule, plan[$0].fire) }, on: producer, caughtUp: false)
            // Each published schedule moves to its fire after the one just published: fires that came due
            // while publishing was slow are then published at once, in order.
            let published = Set(due)
            plan = plan.indices.compactMap { k in
                let entry = plan[k]
                guard published.contains(k) else { return entry }
                return FirePlan.next(schedules[entry.schedule], index: entry.schedule, after: entry.fire)
            }
        }
    }

    /// Publishes fires as jobs, one message each (job + state record, see ``FireLedger``), confirms pipelined.
    /// A fire the broker refused is logged and counted as done; a lost connection or closed channel ends
    /// the term: whether the last fires arrived is then read back from the broker by the next leader.
    private func publish(_ fires: [(schedule: Int, fire: Date)], on producer: JobProducer, caughtUp: Bool) async throws {
        guard !fires.isEmpty else { return }
        var messages: [OutgoingMessage] = []
        var ids: [String] = []
        for (i, fire) in fires {
            let s = schedules[i]
            let options = EnqueueOptions(
                queue: s.queue, priority: s.priority.map { UInt8(clamping: $0) },
                expiresAt: s.expiry.map { fire.addingTimeInterval($0.seconds) }, jobID: s.fireID(for: fire),
                headers: ledger.headers(schedule: s.name, fire: fire))
            let (id, message) = try producer.build(JobRequest(name: s.job, arguments: Array(s.arguments.utf8), options: options))
            ids.append(id)
            messages.append(message)
        }
        let publishedAt = Date()
        // Republishing through a lost connection is not this term's to do: the lock went with the connection.
        let publisher = ConfirmedPublisher(channel: producer.channel, republishFor: .zero)
        let sent = messages
        let results = await publisher.publish(count: sent.count, describe: { (ids[$0], ConfirmedPublisher.queue(of: sent[$0])) }) {
            sent[$0]
        }
        let confirmedAt = Date()
        for (k, result) in results.enumerated() {
            let (i, fire) = fires[k]
            switch result {
            case .success:
                service.observer?.fired(FireRecord(schedule: schedules[i].name, fireID: ids[k], fireTime: fire,
                                                   publishedAt: publishedAt, confirmedAt: confirmedAt, caughtUp: caughtUp))
            case .failure(let error) where error.underlying != nil:
                throw error  // the channel or connection failed: the term ends
            case .failure(let error):
                logger.error("fire refused by the broker", metadata: ["id": "\(ids[k])", "error": "\(error)"])
            }
        }
    }
}
