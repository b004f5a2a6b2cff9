import Foundation
import Logging
import Warren

/// Where the job store is: `sqlite:PATH` or `postgres://user[:password]@host[:port]/database`, as read
/// from `WARREN_STORE` or, for a URL with a password, from the file named by `WARREN_STORE_FILE`.
public enum StoreURL: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite database file.
    case sqlite(path: String)
    /// A PostgreSQL database (default port 5432).
    case postgres(host: String, port: Int, user: String, password: String?, database: String)

    /// Parses a store URL; the error never repeats a password.
    public init(parsing text: String) throws(StoreError) {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasPrefix("sqlite:") {
            var path = String(t.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw StoreError(.invalidConfiguration, "sqlite: store URL without a path (sqlite:/var/lib/warren/jobs.db)") }
            self = .sqlite(path: path)
            return
        }
        guard t.hasPrefix("postgres://") || t.hasPrefix("postgresql://"), let c = URLComponents(string: t),
              let host = c.host, !host.isEmpty, let user = c.user, !user.isEmpty else {
            let scheme = t.split(separator: ":").first.map(String.init) ?? ""
            throw StoreError(.invalidConfiguration, "store URL must be sqlite:PATH or postgres://user@host:port/db (got scheme '\(scheme)')")
        }
        let database = String(c.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw StoreError(.invalidConfiguration, "postgres store URL names no database (postgres://user@host:port/db)") }
        self = .postgres(host: host, port: c.port ?? 5432, user: user, password: c.password, database: database)
    }

    /// The URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let host, let port, let user, _, let database): "postgres://\(user)@\(host):\(port)/\(database)"
        }
    }

    /// The store named by `WARREN_STORE` or `WARREN_STORE_FILE` (the file's first line), or `nil` when
    /// neither is set.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) -> StoreURL? {
        if let file = env["WARREN_STORE_FILE"], !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw StoreError(.invalidConfiguration, "WARREN_STORE_FILE: cannot read \(file)")
            }
            return try StoreURL(parsing: text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "")
        }
        if let text = env["WARREN_STORE"], !text.isEmpty { return try StoreURL(parsing: text) }
        return nil
    }

    /// Opens the store (migrating its schema).
    public func open(logger: Logger = Logger(label: "warren.store")) async throws(StoreError) -> any JobStore {
        switch self {
        case .sqlite(let path):
            return try await SQLiteStore.open(path: path, logger: logger)
        case .postgres(let host, let port, let user, let password, let database):
            return try await PostgresStore.open(host: host, port: port, user: user, password: password, database: database, logger: logger)
        }
    }
}
