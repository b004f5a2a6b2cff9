import Foundation
import Logging
import PostgresNIO
import Synchronization
import Warren

/// The PostgreSQL job store, for workers and producers on several hosts. A pool of connections (up to
/// `maxConnections`); the schema is created and migrated under an advisory lock, so many processes may
/// start at once.
public enum PostgresStore {
    /// Connects to `url` (``StoreURL/postgres(host:port:user:password:database:)``) and migrates the schema.
    public static func open(host: String, port: Int, user: String, password: String?, database: String,
                            maxConnections: Int = 10, logger: Logger = Logger(label: "warren.store")) async throws(StoreError) -> any JobStore {
        let backend = PostgresBackend(host: host, port: port, user: user, password: password, database: database,
                                      maxConnections: maxConnections, logger: logger)
        let store = SQLJobStore(backend: backend)
        do throws(StoreError) {
            try await store.migrate()
        } catch {
            await backend.close()
            throw StoreError(error.code == .query ? .unavailable : error.code, error.message)
        }
        return store
    }
}

/// A `PostgresClient` pool, run by a task of its own until ``close()``.
final class PostgresBackend: SQLBackend {
    let client: PostgresClient
    let location: String
    let logger: Logger
    private let runner: Task<Void, Never>
    /// Any fixed number, the same in every Warren process: only migrations take it.
    let migrationLock: String? = "SELECT pg_advisory_xact_lock(7270514)"
    let extraSchema: [String] = PostgresOutbox.schema
    func ownMigrations(_ version: Int) -> [String] { StoreSchema.postgresOnly[version] ?? [] }
    /// One group commit in flight, as on SQLite. Outcomes are committed off the job's runners (the delivery
    /// waits, holding its prefetch place), so what finishes during a commit simply joins the next one: with
    /// four in flight, each commit took the few rows of a quarter of a commit's time (two thirds of the
    /// commits held under 10 rows, over a 40,000-job drain), and every commit costs the server and the worker
    /// a transaction, a statement and a WAL flush. Measured with `warren worker` at default flags draining
    /// 60,000 `record` jobs, six runs each, alternated: per job the server's CPU fell by 23% and the
    /// worker's by 16% on average (every pair fell), and the rate rose by 13% (docs/store.md, Cost).
    let concurrentWrites = 1
    let writableCTEs = true
    let columnArrays = true
    let childrenStatistics: String? = "ANALYZE warren_batch_children"
    let rowLock = " FOR UPDATE"
    let slotFormat = SlotFormat.varbit

    init(host: String, port: Int, user: String, password: String?, database: String, maxConnections: Int, logger: Logger) {
        var config = PostgresClient.Configuration(host: host, port: port, username: user, password: password,
                                                  database: database, tls: .disable)
        config.options.maximumConnections = max(1, maxConnections)
        config.options.connectTimeout = .seconds(5)
        // The pool's own log at errors only: its one warning ("lease before run() was called") comes from the
        // first query racing the runner task started below, which is harmless (the lease waits for the pool).
        var background = logger
        background.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: config, backgroundLogger: background)
        self.client = client
        self.logger = logger
        self.location = "postgres://\(user)@\(host):\(port)/\(database)"
        self.runner = Task { await client.run() }
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] {
        do {
            if let prepared = PostgresPrepared.runners[sql] { return try await prepared.onClient(client, Self.bindings(binds), logger) }
            return try await Self.rows(try await client.query(Self.query(sql, binds), logger: logger))
        } catch {
            throw Self.storeError(error)
        }
    }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLSession) async throws(StoreError) -> T) async throws(StoreError) -> T {
        let logger = self.logger
        do {
            return try await client.withConnection { (connection: PostgresConnection) async throws -> T in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let value = try await body(Session(connection: connection, logger: logger))
                    try await connection.query("COMMIT", logger: logger)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Statements on one leased connection, inside its transaction.
    struct Session: SQLSession, @unchecked Sendable {
        // Unchecked: the connection is only used inside the `withConnection` closure that leased it.
        let connection: PostgresConnection
        let logger: Logger
        func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] {
            do {
                if let prepared = PostgresPrepared.runners[sql] {
                    return try await prepared.onConnection(connection, PostgresBackend.bindings(binds), logger)
                }
                return try await PostgresBackend.rows(try await connection.query(PostgresBackend.query(sql, binds), logger: logger))
            } catch {
                throw PostgresBackend.storeError(error)
            }
        }
    }

    func close() async {
        runner.cancel()
        _ = await runner.value
    }

    /// `sql` with its `?` placeholders numbered `$1...` (``numbered(_:)``, cached per statement: the store
    /// uses a few hundred at most).
    static func query(_ sql: String, _ binds: [SQLValue]) -> PostgresQuery {
        let text: String
        if let cached = numberedCache.withLock({ $0[sql] }) {
            text = cached
        } else {
            text = numbered(sql)
            numberedCache.withLock { if $0.count > 1_000 { $0.removeAll() }; $0[sql] = text }
        }
        return PostgresQuery(unsafeSQL: text, binds: bindings(binds))
    }

    /// `sql` with its `?` placeholders numbered `$1...` (the store's SQL has no `?` elsewhere).
    static func numbered(_ sql: String) -> String {
        var n = 0
        return sql.split(separator: "?", omittingEmptySubsequences: false).enumerated()
            .map { i, part in i == 0 ? String(part) : { n += 1; return "$\(n)" }() + part }.joined()
    }

    static func bindings(_ binds: [SQLValue]) -> PostgresBindings {
        var b = PostgresBindings(capacity: binds.count)
        for v in binds {
            switch v {
            case .int(let i): b.append(i)
            case .double(let d): b.append(d)
            case .text(let s): b.append(s)
            case .null: b.appendNull()
            case .binary(let oid, let bytes): b.append(BinaryValue(psqlType: PostgresDataType(oid), bytes: bytes))
            }
        }
        return b
    }

    /// Bytes bound as they are, in binary format.
    struct BinaryValue: PostgresDynamicTypeEncodable {
        let psqlType: PostgresDataType
        let bytes: [UInt8]
        var psqlFormat: PostgresFormat { .binary }
        func encode<E: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<E>) {
            byteBuffer.writeBytes(bytes)
        }
    }

    private static let numberedCache = Mutex<[String: String]>([:])

    static func rows<Rows: AsyncSequence>(_ sequence: Rows) async throws -> [SQLRow] where Rows.Element == PostgresRow {
        var out: [SQLRow] = []
        for try await row in sequence {
            var values: [String: SQLValue] = [:]
            for cell in row {
                guard cell.bytes != nil else { values[cell.columnName] = .null; continue }
                switch cell.dataType {
                case .int8, .int4, .int2: values[cell.columnName] = .int(try cell.decode(Int64.self))
                case .float8, .float4: values[cell.columnName] = .double(try cell.decode(Double.self))
                case .bytea, .varbit:
                    values[cell.columnName] = .binary(oid: cell.dataType.rawValue, bytes: cell.bytes.map { Array($0.readableBytesView) } ?? [])
                default: values[cell.columnName] = .text(try cell.decode(String.self))
                }
            }
            out.append(SQLRow(values: values))
        }
        return out
    }

    /// A driver error as a store error: the server's message, never the connection's password.
    static func storeError(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                return StoreError(e.code == .server ? .query : .unavailable, "PostgreSQL: \(message)")
            }
            return StoreError(.unavailable, "PostgreSQL: \(e.code)\(e.underlying.map { " (\($0))" } ?? "")")
        }
        return StoreError(.unavailable, "PostgreSQL: \(error)")
    }
}
