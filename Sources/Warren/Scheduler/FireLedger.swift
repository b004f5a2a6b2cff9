import Foundation
import WarrenAMQP

/// What each schedule fired last, kept in the broker so that a new leader neither repeats nor skips a fire.
///
/// Every schedule has a durable state queue (``SchedulerConfiguration/stateQueue(for:)``) with
/// `x-max-length` 1, bound to ``WireFormat/workExchange`` under its own name. A fire is ONE publish: the job,
/// with a `BCC` header naming the state queue, so the broker routes the same message to the work queue and
/// to the state queue in one step (the `BCC` header is removed before delivery). The state queue thus holds
/// the last fired job, whose ``WireFormat/Header/fireTime`` header says when it fired. A leader killed at any
/// moment has either published a fire (job and record both enqueued) or not (neither): there is no window in
/// which one exists without the other.
struct FireLedger {
    let configuration: SchedulerConfiguration
    let mode: Topology.Mode

    /// Declares the state queue of every schedule and binds it for `BCC` routing.
    func declare(_ schedules: [ScheduleDefinition], on channel: AMQPChannel) async throws(AMQPError) {
        var arguments: FieldTable = ["x-max-length": .int32(1)]
        if mode == .quorum { arguments["x-queue-type"] = "quorum" }
        for schedule in schedules {
            let queue = configuration.stateQueue(for: schedule.name)
            try await channel.declareQueue(queue, durable: true, arguments: arguments, recordForRecovery: false)
            try await channel.bindQueue(queue, exchange: WireFormat.workExchange, routingKey: queue, recordForRecovery: false)
        }
    }

    /// The fire time of the last fired job of `schedule`, or `nil` if it never fired.
    ///
    /// Read with `basic.get` and given back with a requeueing reject on `channel`; run it on the channel that
    /// then publishes fires, so the broker handles the reject before any new fire (one channel is ordered).
    /// Stray older records (more than one message) are acked away.
    func lastFired(_ schedule: String, on channel: AMQPChannel) async throws -> Date? {
        let queue = configuration.stateQueue(for: schedule)
        var records: [(date: Date, delivery: AMQPDelivery)] = []
        for _ in 0..<16 {
            guard let d = try await channel.get(queue: queue) else { break }
            let date = HeaderValues.date(d.properties.headers?[WireFormat.Header.fireTime]) ?? .distantPast
            records.append((date, d))
        }
        guard let newest = records.max(by: { $0.date < $1.date }) else { return nil }
        for r in records where r.delivery.deliveryTag != newest.delivery.deliveryTag { try await r.delivery.ack() }
        try await newest.delivery.reject(requeue: true)
        return newest.date == .distantPast ? nil : newest.date
    }

    /// The headers that make a job a fire of `schedule` at `fire`, recorded in its state queue.
    func headers(schedule: String, fire: Date) -> FieldTable {
        [
            WireFormat.Header.schedule: .string(schedule),
            WireFormat.Header.fireTime: .milliseconds(fire),
            "BCC": .array([.string(configuration.stateQueue(for: schedule))]),
        ]
    }
}
