import Foundation
import Logging
import Synchronization

/// Authentication state of the dashboard: the secret check, login sessions with their CSRF tokens, and the
/// failed-login limiter. Pure bookkeeping (no HTTP), so it is tested without a server.
public final class Gatekeeper: Sendable {
    /// A logged-in browser session.
    public struct Session: Sendable, Hashable {
        /// The cookie value.
        public var id: String
        /// The token forms and `fetch` calls must send back (`csrf` field or `X-CSRF-Token` header).
        public var csrf: String
        /// When it ends.
        public var expires: Date
    }

    /// What a login attempt got.
    public enum Verdict: Sendable, Equatable {
        /// The secret matched.
        case accepted
        /// It did not.
        case refused
        /// Too many failures from this client lately: not even checked.
        case limited
    }

    private struct State {
        var sessions: [String: Session] = [:]
        var failures: [String: [Date]] = [:]
    }

    private let token: [UInt8]
    private let maxFailures: Int
    private let window: Double
    private let lifetime: Double
    private let state = Mutex(State())
    private let logger: Logger

    /// A gatekeeper for `token`.
    public init(token: String, maxFailures: Int = 5, window: Double = 60, sessionLifetime: Double = 12 * 3600,
                logger: Logger = Logger(label: "warren.dashboard")) {
        self.token = Array(token.utf8)
        self.maxFailures = max(1, maxFailures)
        self.window = window
        self.lifetime = sessionLifetime
        self.logger = logger
    }

    /// Checks `secret` from `client` (its address); failures are counted and logged, and a client with
    /// too many recent failures is ``Verdict/limited`` without its secret being checked.
    public func check(_ secret: String, client: String, now: Date = Date()) -> Verdict {
        let limited = state.withLock { s -> Bool in
            s.failures[client] = (s.failures[client] ?? []).filter { now.timeIntervalSince($0) < window }
            return (s.failures[client]?.count ?? 0) >= maxFailures
        }
        if limited {
            logger.warning("dashboard login refused: too many failures", metadata: ["client": "\(client)"])
            return .limited
        }
        if Self.equal(Array(secret.utf8), token) { return .accepted }
        let count = state.withLock { s -> Int in
            s.failures[client, default: []].append(now)
            return s.failures[client]!.count
        }
        logger.warning("dashboard login failed", metadata: ["client": "\(client)", "failures": "\(count)"])
        return .refused
    }

    /// A new session (after an accepted login).
    public func open(now: Date = Date()) -> Session {
        let session = Session(id: Self.random(), csrf: Self.random(), expires: now.addingTimeInterval(lifetime))
        state.withLock { s in
            s.sessions = s.sessions.filter { $0.value.expires > now }
            s.sessions[session.id] = session
        }
        return session
    }

    /// The live session with cookie value `id`.
    public func session(_ id: String, now: Date = Date()) -> Session? {
        state.withLock { s in s.sessions[id].flatMap { $0.expires > now ? $0 : nil } }
    }

    /// Ends a session.
    public func close(_ id: String) { _ = state.withLock { $0.sessions.removeValue(forKey: id) } }

    /// Compares in time independent of where the first difference is.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return diff == 0
    }

    /// 32 random bytes as hex (the system generator).
    static func random() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }
}
