import CRabbitMQ
import Foundation

extension ConnectionCore {
    /// First connection: tries each endpoint once, in order, and throws the last failure.
    func connectInitially() throws(AMQPError) {
        var lastError = AMQPError(.invalidConfiguration, "no endpoints configured")
        for (i, endpoint) in config.endpoints.enumerated() {
            do {
                try open(endpoint)
                endpointIndex = i
                try openControlChannel()
                shared.emit(.connected(endpoint: connectedEndpoint))
                return
            } catch {
                lastError = error
                logger.debug("connect failed", metadata: ["endpoint": "\(endpoint.host):\(endpoint.port)", "error": "\(error)"])
            }
        }
        throw lastError
    }

    /// Opens socket, TLS and AMQP session to one endpoint; on success `conn` is set.
    func open(_ endpoint: AMQPConfiguration.Endpoint) throws(AMQPError) {
        guard let c = amqp_new_connection() else { throw AMQPError(.protocolError, "out of memory") }
        var success = false
        defer { if !success { amqp_destroy_connection(c) } }
        let arena = CArena()
        let where_ = "\(endpoint.host):\(endpoint.port)"

        let socket: OpaquePointer?
        if let tls = config.tls {
            socket = amqp_ssl_socket_new(c)
            guard let socket else { throw AMQPError(.tlsFailure, "cannot create a TLS socket") }
            if let ca = tls.caCertificatePath, amqp_ssl_socket_set_cacert(socket, ca) != AMQP_STATUS_OK.rawValue {
                throw AMQPError(.tlsFailure, "cannot load CA certificate file '\(ca)'")
            }
            if let cert = tls.clientCertificatePath, let key = tls.clientKeyPath,
               amqp_ssl_socket_set_key(socket, cert, key) != AMQP_STATUS_OK.rawValue
            {
                throw AMQPError(.tlsFailure, "cannot load client certificate '\(cert)' / key '\(key)'")
            }
            amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
        } else {
            socket = amqp_tcp_socket_new(c)
        }
        guard let socket else { throw AMQPError(.protocolError, "cannot create a socket") }

        var connectTimeout = Self.timeInterval(seconds: config.connectTimeout.seconds)
        let rc = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &connectTimeout)
        if rc != AMQP_STATUS_OK.rawValue {
            let probe = rc == AMQP_STATUS_SOCKET_ERROR.rawValue || rc == AMQP_STATUS_TCP_ERROR.rawValue
                ? warren_tcp_probe(endpoint.host, Int32(endpoint.port), Int32(config.connectTimeout.seconds * 1000)) : 0
            throw Self.connectError(rc, errno: probe, endpoint: where_, timeout: config.connectTimeout.seconds)
        }
        var handshake = Self.timeInterval(seconds: config.handshakeTimeout.seconds)
        amqp_set_handshake_timeout(c, &handshake)

        var properties = FieldTableCodec.encode(clientProperties(), in: arena)
        let reply = warren_login_plain(c, arena.cString(config.virtualHost), Int32(config.channelMax),
                                       Int32(config.frameMax), Int32(config.heartbeat), &properties,
                                       arena.cString(config.user), arena.cString(config.password))
        try Self.checkLogin(reply, endpoint: where_, config: config)

        var rpcTimeout = Self.timeInterval(seconds: config.rpcTimeout.seconds)
        amqp_set_rpc_timeout(c, &rpcTimeout)
        let heartbeat = amqp_get_heartbeat(c)
        pollTimeoutMS = heartbeat > 0 ? min(1000, max(50, heartbeat * 250)) : 1000
        success = true
        link = .connected(c, endpoint: where_)
        shared.update { $0.connected = true; $0.blocked = false }
        logger.info("connected", metadata: ["endpoint": "\(where_)", "heartbeat": "\(heartbeat)"])
    }

    func openControlChannel() throws(AMQPError) {
        let ch = channels[Self.controlChannel] ?? ChannelState(id: Self.controlChannel)
        channels[Self.controlChannel] = ch
        try reopen(ch)
    }

    private func clientProperties() -> FieldTable {
        [
            "product": "Warren",
            "platform": "Swift",
            "version": "1.0",
            "connection_name": .string(config.connectionName),
            "capabilities": .table([
                "authentication_failure_close": true,
                "consumer_cancel_notify": true,
                "connection.blocked": true,
                "exchange_exchange_bindings": true,
                "publisher_confirms": true,
                "basic.nack": true,
                "per_consumer_qos": true,
            ]),
        ]
    }

    static func timeInterval(seconds: Double) -> Glibc.timeval {
        let s = max(0, seconds)
        return Glibc.timeval(tv_sec: Int(s), tv_usec: Int((s - s.rounded(.down)) * 1_000_000))
    }

    static func connectError(_ rc: Int32, errno: Int32, endpoint: String, timeout: Double) -> AMQPError {
        let text = String(cString: amqp_error_string2(rc))
        switch rc {
        case AMQP_STATUS_TIMEOUT.rawValue:
            return AMQPError(.timeout, "connecting to \(endpoint) timed out after \(timeout) s")
        case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue:
            return AMQPError(.connectFailed, "cannot resolve host of \(endpoint)")
        case AMQP_STATUS_SSL_ERROR.rawValue, AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue,
             AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue:
            return AMQPError(.tlsFailure, "TLS handshake with \(endpoint) failed: \(text)")
        default:
            let reason = errno == ECONNREFUSED ? "connection refused (is the broker running on that port?)"
                : errno == -1 ? "cannot resolve the host name"
                : errno > 0 ? String(cString: strerror(errno)) : text
            return AMQPError(.connectFailed, "cannot connect to \(endpoint): \(reason)")
        }
    }

    static func checkLogin(_ reply: amqp_rpc_reply_t, endpoint: String, config: AMQPConfiguration) throws(AMQPError) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let code = close.reply_code
            let text = close.reply_text.string
            if code == 403 {
                throw AMQPError(.authenticationFailed,
                                "the broker at \(endpoint) refused user '\(config.user)' (wrong user name or password?)",
                                replyCode: code, replyText: text)
            }
            if code == 530 {
                throw AMQPError(.accessRefused, "user '\(config.user)' may not use virtual host '\(config.virtualHost)'",
                                replyCode: code, replyText: text)
            }
            throw AMQPError(.connectionClosed, "the broker at \(endpoint) closed the connection during login",
                            replyCode: code, replyText: text)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let rc = reply.library_error
            if rc == AMQP_STATUS_TIMEOUT.rawValue {
                throw AMQPError(.timeout, "AMQP handshake with \(endpoint) timed out after \(config.handshakeTimeout)")
            }
            if rc >= AMQP_STATUS_SSL_ERROR.rawValue - 0x100 && rc <= AMQP_STATUS_SSL_ERROR.rawValue {
                throw AMQPError(.tlsFailure, "TLS with \(endpoint) failed: \(String(cString: amqp_error_string2(rc)))")
            }
            throw AMQPError(.connectFailed,
                            "AMQP handshake with \(endpoint) failed: \(String(cString: amqp_error_string2(rc))) (not an AMQP 0-9-1 broker, or it refused us)")
        default:
            throw AMQPError(.protocolError, "unexpected login reply from \(endpoint)")
        }
    }

    /// Maps a librabbitmq-c status from an established connection to an error.
    static func libraryError(_ rc: Int32, _ context: String) -> AMQPError {
        let text = String(cString: amqp_error_string2(rc))
        switch rc {
        case AMQP_STATUS_TIMEOUT.rawValue:
            return AMQPError(.timeout, "\(context): no reply within the RPC timeout")
        case AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue:
            return AMQPError(.connectionLost, "\(context): missed heartbeats from the broker")
        case AMQP_STATUS_SSL_ERROR.rawValue:
            return AMQPError(.connectionLost, "\(context): TLS error: \(text)")
        default:
            return AMQPError(.connectionLost, "\(context): \(text)")
        }
    }
}
