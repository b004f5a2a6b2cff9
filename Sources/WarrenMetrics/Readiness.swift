import ServiceLifecycle
import Synchronization
import WarrenAMQP

/// What `/readyz` answers: ready when every registered check passes (e.g. the connection is up and the
/// worker is consuming). `/healthz` does not look at it: a process that is recovering is alive.
public final class Readiness: Sendable {
    private let checks = Mutex<[(name: String, check: @Sendable () -> Bool)]>([])

    /// No checks yet: ready.
    public init() {}

    /// Adds a check named `name` (reported in the `/readyz` body when it fails).
    public func require(_ name: String, _ check: @escaping @Sendable () -> Bool) {
        checks.withLock { $0.append((name, check)) }
    }

    /// Ready only while `connection` is up (not while it recovers).
    public func requireConnected(_ connection: AMQPConnection) {
        require("connection \(connection.configuration.connectionName)") { connection.isConnected }
    }

    /// Wraps `service` (e.g. a ``Warren/Worker``) so that readiness requires it to be running and not shutting
    /// down: ready from the moment its `run()` starts until graceful shutdown begins or `run()` returns.
    public func tracking(_ service: any Service, as name: String) -> any Service {
        let flag = RunningFlag()
        require(name) { flag.value }
        return TrackedService(inner: service, flag: flag)
    }

    /// Names of the checks failing now; empty when ready.
    public func failing() -> [String] {
        checks.withLock { $0 }.filter { !$0.check() }.map(\.name)
    }

    /// Whether every check passes.
    public var isReady: Bool { failing().isEmpty }
}

final class RunningFlag: Sendable {
    private let state = Atomic<Bool>(false)
    var value: Bool { state.load(ordering: .acquiring) }
    func set(_ v: Bool) { state.store(v, ordering: .releasing) }
}

/// Runs a service and keeps a flag true while it runs and is not shutting down.
struct TrackedService: Service {
    let inner: any Service
    let flag: RunningFlag

    func run() async throws {
        flag.set(true)
        defer { flag.set(false) }
        try await withGracefulShutdownHandler {
            try await inner.run()
        } onGracefulShutdown: {
            flag.set(false)
        }
    }
}
