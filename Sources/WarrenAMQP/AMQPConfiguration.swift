/// How to reach and talk to a RabbitMQ broker. Every field has a documented default; build one from a URL
/// with ``init(url:)`` (the form the CLI reads from `WARREN_URL`).
///
/// The password is never printed: ``description`` redacts it.
public struct AMQPConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// One broker node to connect to.
    public struct Endpoint: Sendable, Hashable {
        /// Host name or IP address. Default `127.0.0.1`.
        public var host: String
        /// TCP port. Default 5672, or 5671 with TLS.
        public var port: Int
        /// Creates an endpoint.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// Nodes to try, in order; on connection loss the next one is tried (cluster failover).
    public var endpoints: [Endpoint] = [Endpoint(host: "127.0.0.1", port: 5672)]
    /// Virtual host. Default `/`.
    public var virtualHost: String = "/"
    /// User name. Default `guest`.
    public var user: String = "guest"
    /// Password. Default `guest`. Never logged.
    public var password: String = "guest"
    /// TLS settings; `nil` (the default) for plain TCP.
    public var tls: TLSConfiguration?
    /// Heartbeat interval asked of the broker, in whole seconds (the protocol's unit); 0 disables. Default 30.
    public var heartbeat: Int = 30
    /// TCP connect timeout. Default 10 s.
    public var connectTimeout: Duration = .seconds(10)
    /// AMQP handshake (login) timeout. Default 10 s.
    public var handshakeTimeout: Duration = .seconds(10)
    /// Timeout for synchronous broker calls (declare, bind, qos, ...). Default 30 s.
    public var rpcTimeout: Duration = .seconds(30)
    /// Largest frame, in bytes. Default 131072 (the broker's default).
    public var frameMax: Int = 131_072
    /// Most channels on this connection; 0 means the broker's limit. Default 0.
    public var channelMax: Int = 0
    /// Connection name shown in the management UI and `rabbitmqctl list_connections`. Default `warren`.
    public var connectionName: String = "warren"
    /// Reconnection policy after a lost connection. Default: enabled, 0.1 s doubling to 10 s, with jitter.
    public var recovery: RecoveryPolicy = RecoveryPolicy()
    /// How long the I/O thread lets deliveries gather in the socket while they follow each other closely,
    /// before it reads them: one wake-up (of the I/O thread, then of a job runner) per window instead of one
    /// per small burst. It applies only while every consumer on the connection has at least half its
    /// prefetch to spare and no publish waits for its confirm, and only once two reads came within the
    /// window; a delivery after a quiet spell is read at once. So it adds at most this much to a job's start,
    /// and only under a steady flow. `.zero` disables it. Default 1 ms (URL option `delivery_batch_window`,
    /// in milliseconds).
    public var deliveryBatchWindow: Duration = .milliseconds(1)

    /// The defaults: `amqp://guest:guest@127.0.0.1:5672/`.
    public init() {}

    public var description: String {
        let scheme = tls == nil ? "amqp" : "amqps"
        let hosts = endpoints.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        let vhost = virtualHost == "/" ? "%2F" : virtualHost
        return "\(scheme)://\(user):***@\(hosts)/\(vhost)"
    }
}

/// TLS settings for an `amqps://` connection.
public struct TLSConfiguration: Sendable, Hashable {
    /// PEM file of the certificate authority (or authorities) that signs the broker's certificate.
    /// `nil`: the system's default trust store.
    public var caCertificatePath: String?
    /// PEM client certificate, for brokers that ask for one (mutual TLS).
    public var clientCertificatePath: String?
    /// PEM private key of the client certificate.
    public var clientKeyPath: String?
    /// Verify the broker's certificate chain. Default `true`.
    public var verifyPeer: Bool = true
    /// Verify that the broker's certificate names the host connected to. Default `true`.
    public var verifyHostname: Bool = true

    /// Creates TLS settings; verification is on by default.
    public init(caCertificatePath: String? = nil, clientCertificatePath: String? = nil, clientKeyPath: String? = nil,
                verifyPeer: Bool = true, verifyHostname: Bool = true) {
        self.caCertificatePath = caCertificatePath
        self.clientCertificatePath = clientCertificatePath
        self.clientKeyPath = clientKeyPath
        self.verifyPeer = verifyPeer
        self.verifyHostname = verifyHostname
    }
}

/// When and how fast to reconnect after the connection is lost.
public struct RecoveryPolicy: Sendable, Hashable {
    /// Reconnect automatically, re-declare recorded topology and resume consumers. Default `true`.
    public var enabled: Bool = true
    /// Backoff between attempts. Default 0.1 s doubling up to 10 s, full jitter.
    public var backoff: Backoff = Backoff(base: .milliseconds(100), cap: .seconds(10), jitter: 0.5)
    /// Give up after this many consecutive failed attempts; `nil` (default) never gives up.
    public var maxAttempts: Int?

    /// The defaults.
    public init() {}
}
