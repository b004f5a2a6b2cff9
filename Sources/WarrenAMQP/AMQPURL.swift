import Foundation

extension AMQPConfiguration {
    /// Parses an AMQP URI (the RabbitMQ URI spec):
    /// `amqp[s]://user:password@host[:port][,host2[:port]...]/vhost?heartbeat=10&connection_timeout=5000`.
    ///
    /// - Several comma-separated hosts give failover endpoints (an extension of the spec).
    /// - The vhost is the path, percent-decoded (`%2F` is `/`); no path means `/`.
    /// - Query options: `heartbeat` (s), `connection_timeout` (ms), `channel_max`, `frame_max`,
    ///   `name` (connection name), `delivery_batch_window` (ms, ``deliveryBatchWindow``), and for `amqps`: `cacertfile`, `certfile`, `keyfile`,
    ///   `verify` (`verify_peer` | `verify_none`), `verify_hostname` (`true` | `false`).
    ///
    /// - Throws: ``AMQPError`` with code ``AMQPError/Code/invalidConfiguration`` naming what is wrong
    ///   (never echoing the password).
    public init(url: String) throws(AMQPError) {
        self.init()
        func invalid(_ why: String) -> AMQPError {
            AMQPError(.invalidConfiguration, "invalid AMQP URL: \(why)")
        }
        let schemeEnd = url.range(of: "://")
        guard let schemeEnd else { throw invalid("expected amqp://... or amqps://...") }
        let scheme = url[url.startIndex..<schemeEnd.lowerBound].lowercased()
        guard scheme == "amqp" || scheme == "amqps" else { throw invalid("unknown scheme '\(scheme)'") }
        let secure = scheme == "amqps"
        if secure { tls = TLSConfiguration() }

        var rest = Substring(url[schemeEnd.upperBound...])
        var query = Substring("")
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var authority = rest
        var path: Substring? = nil
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            let parts = userinfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let u = String(parts[0]).removingPercentEncoding else { throw invalid("bad percent-encoding in user") }
            user = u
            if parts.count > 1 {
                guard let p = String(parts[1]).removingPercentEncoding else {
                    throw invalid("bad percent-encoding in password")
                }
                password = p
            }
        }
        let defaultPort = secure ? 5671 : 5672
        var parsed: [Endpoint] = []
        for hostPort in authority.split(separator: ",", omittingEmptySubsequences: false) {
            var host = Substring(hostPort)
            var port = defaultPort
            if host.hasPrefix("[") {  // IPv6 literal
                guard let close = host.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
                let after = host[host.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                        throw invalid("bad port '\(after.dropFirst())'")
                    }
                    port = p
                }
                host = host[host.index(after: host.startIndex)..<close]
            } else if let colon = host.lastIndex(of: ":") {
                let portText = host[host.index(after: colon)...]
                guard let p = Int(portText), (1...65535).contains(p) else { throw invalid("bad port '\(portText)'") }
                port = p
                host = host[..<colon]
            }
            parsed.append(Endpoint(host: host.isEmpty ? "127.0.0.1" : String(host), port: port))
        }
        endpoints = parsed.isEmpty ? [Endpoint(host: "127.0.0.1", port: defaultPort)] : parsed
        if let path, !path.isEmpty {
            guard let vhost = String(path).removingPercentEncoding else { throw invalid("bad percent-encoding in vhost") }
            virtualHost = vhost
        }
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0])
            let value = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
            func int() throws(AMQPError) -> Int {
                guard let v = Int(value), v >= 0 else { throw invalid("option \(key) wants a non-negative integer") }
                return v
            }
            func needTLS() throws(AMQPError) {
                guard tls != nil else { throw invalid("option \(key) needs amqps://") }
            }
            switch key {
            case "heartbeat": heartbeat = try int()
            case "delivery_batch_window": deliveryBatchWindow = .milliseconds(try int())
            case "connection_timeout": connectTimeout = .milliseconds(try int())
            case "channel_max": channelMax = try int()
            case "frame_max": frameMax = try int()
            case "name", "connection_name": connectionName = value
            case "cacertfile": try needTLS(); tls?.caCertificatePath = value
            case "certfile": try needTLS(); tls?.clientCertificatePath = value
            case "keyfile": try needTLS(); tls?.clientKeyPath = value
            case "verify":
                try needTLS()
                switch value {
                case "verify_peer": tls?.verifyPeer = true
                case "verify_none": tls?.verifyPeer = false; tls?.verifyHostname = false
                default: throw invalid("verify must be verify_peer or verify_none")
                }
            case "verify_hostname", "server_name_indication":
                try needTLS()
                tls?.verifyHostname = !(value == "false" || value == "disable")
            default: throw invalid("unknown option '\(key)'")
            }
        }
    }
}
