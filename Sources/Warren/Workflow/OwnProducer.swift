import Synchronization
import WarrenAMQP

/// A middleware's own confirming producer on a connection, opened on first use (for what it publishes
/// outside an attempt, in ``JobMiddleware/willSettle(_:)``, where the job's producer is gone).
final class OwnProducer: Sendable {
    private let connection: AMQPConnection
    private let topology: Topology
    private let slot = Mutex<Task<JobProducer, any Error>?>(nil)

    init(connection: AMQPConnection, topology: Topology) {
        self.connection = connection
        self.topology = topology
    }

    /// The producer; a failure to open it is thrown and the next call tries again.
    func get() async throws -> JobProducer {
        let task = slot.withLock { slot in
            if let slot { return slot }
            let (connection, topology) = (self.connection, self.topology)
            let made = Task { try await JobProducer(connection: connection, topology: topology) }
            slot = made
            return made
        }
        do { return try await task.value } catch {
            slot.withLock { $0 = nil }
            throw error
        }
    }
}
