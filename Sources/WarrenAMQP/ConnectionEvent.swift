/// Something that happened to a connection, for logs, metrics and readiness probes.
public enum ConnectionEvent: Sendable, Hashable {
    /// Connected (first time) to the endpoint `host:port`.
    case connected(endpoint: String)
    /// The connection was lost; recovery starts if enabled.
    case disconnected(AMQPError)
    /// Recovered on `host:port` after `attempts` tries: channels, topology and consumers are restored.
    case recovered(endpoint: String, attempts: Int)
    /// Recovery gave up (``RecoveryPolicy/maxAttempts``) or is disabled; the connection is dead.
    case failed(AMQPError)
    /// The broker blocked publishing (`connection.blocked`, e.g. a memory or disk alarm).
    case blocked(reason: String)
    /// The broker lifted the block.
    case unblocked
    /// A recorded declaration or a consumer could not be restored after reconnecting.
    case recoveryProblem(String)
}
