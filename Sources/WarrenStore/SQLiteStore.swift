import Foundation
import Logging
import SQLiteNIO
import Warren

/// The SQLite job store: one file, one host (several processes on that host may share it: WAL mode, one
/// writer at a time, waits up to a minute for the write lock). Not for workers on several hosts: use
/// ``PostgresStore`` there.
public enum SQLiteStore {
    /// Opens (creating if needed) the database at `path` and migrates its schema.
    public static func open(path: String, logger: Logger = Logger(label: "warren.store")) async throws(StoreError) -> any JobStore {
        let backend = try await SQLiteBackend.open(path: path, logger: logger)
        let store = SQLJobStore(backend: backend)
        do throws(StoreError) {
            try await store.migrate()
        } catch {
            await backend.close()
            throw error
        }
        return store
    }
}

/// One SQLite connection; statements and transactions take turns on it (``AsyncLock``).
final class SQLiteBackend: SQLBackend {
    let connection: SQLiteConnection
    let location: String
    private let turn = AsyncLock()
    let migrationLock: String? = nil
    let extraSchema: [String] = []
    func ownMigrations(_ version: Int) -> [String] { [] }
    /// One writer at a time: SQLite serialises them anyway.
    let concurrentWrites = 1
    let writableCTEs = false
    let columnArrays = false
    /// SQLite plans a child's finish through the primary key whatever its statistics (it has none here).
    let childrenStatistics: String? = nil
    let rowLock = ""
    let slotFormat = SlotFormat.blob

    /// Checkpoints the log off the commit path (``WALCheckpointer``); `nil` if it could not start.
    private let checkpointer: WALCheckpointer?

    private init(connection: SQLiteConnection, location: String, checkpointer: WALCheckpointer?) {
        self.connection = connection
        self.location = location
        self.checkpointer = checkpointer
    }

    static func open(path: String, logger: Logger) async throws(StoreError) -> SQLiteBackend {
        do {
            let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            do {
                // Another process writing (a worker, while a CLI command or the dashboard opens the file) makes
                // the journal-mode pragma fail with "database is locked": waited out as statements are.
                // A checkpoint every 10,000 WAL pages (about 40 MB) rather than SQLite's 1,000: group commits
                // rewrite the same last pages of each index, and a checkpoint copies each page once however
                // often it was rewritten, so fewer checkpoints copy far fewer pages (a third less write cost
                // per job, measured). The WAL file is cut back to 64 MB after a checkpoint. A checkpointer on
                // a connection of its own (``WALCheckpointer``) does the copying, so no commit waits for a
                // whole log's checkpoint; the automatic one is the backstop.
                for pragma in ["PRAGMA busy_timeout = 0", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
                               "PRAGMA wal_autocheckpoint = 10000", "PRAGMA journal_size_limit = 67108864"] {
                    let deadline = ContinuousClock.now + .seconds(60)
                    while true {
                        do {
                            _ = try await connection.query(pragma, [])
                            break
                        } catch let error as SQLiteError where [.busy, .locked].contains(error.reason) && ContinuousClock.now < deadline {
                            try? await Task.sleep(for: .milliseconds(Int.random(in: 2...20)))
                        }
                    }
                }
            } catch {
                try? await connection.close()
                throw error
            }
            let checkpointer = await WALCheckpointer.start(path: path, logger: logger)
            return SQLiteBackend(connection: connection, location: "sqlite:\(path)", checkpointer: checkpointer)
        } catch {
            throw StoreError(.unavailable, "opening SQLite database \(path): \(error)")
        }
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] {
        try await turn.withLock { () async throws(StoreError) -> [SQLRow] in
            try await self.retryingBusy { () async throws(StoreError) -> [SQLRow] in try await self.raw(sql, binds) }
        }
    }

    /// Runs `body` again while another connection holds the write lock, up to a minute, sleeping as a
    /// task in between. SQLite's own busy wait is off (busy_timeout 0): it would block one of the few
    /// threads that run every connection's statements, possibly the one the lock holder needs to commit.
    private func retryingBusy<T: Sendable>(_ body: () async throws(StoreError) -> T) async throws(StoreError) -> T {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do throws(StoreError) {
                return try await body()
            } catch where error.code == .unavailable && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(Int.random(in: 2...20)))
            }
        }
    }

    @discardableResult
    private func raw(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] {
        do {
            return try await connection.query(sql, binds.map(Self.data)).map { row in
                SQLRow(values: Dictionary(row.columns.map { ($0.name, Self.value($0.data)) }, uniquingKeysWith: { a, _ in a }))
            }
        } catch let error as SQLiteError where [.busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked].contains(error.reason) {
            throw StoreError(.unavailable, "SQLite: the database is locked by another writer (\(error.message))")
        } catch {
            throw StoreError(.query, "SQLite: \(error)")
        }
    }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLSession) async throws(StoreError) -> T) async throws(StoreError) -> T {
        try await turn.withLock { () async throws(StoreError) -> T in
            try await retryingBusy { () async throws(StoreError) -> [SQLRow] in try await self.raw("BEGIN IMMEDIATE", []) }
            do throws(StoreError) {
                let value = try await body(Session(backend: self))
                try await raw("COMMIT", [])
                return value
            } catch {
                _ = try? await raw("ROLLBACK", [])
                throw error
            }
        }
    }

    /// Statements inside a transaction (the lock is already held).
    private struct Session: SQLSession {
        let backend: SQLiteBackend
        func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow] { try await backend.raw(sql, binds) }
    }

    func close() async {
        await checkpointer?.stop()
        try? await connection.close()
    }

    static func data(_ v: SQLValue) -> SQLiteData {
        switch v {
        case .int(let i): .integer(SQLiteInt64(i))
        case .double(let d): .float(d)
        case .text(let s): .text(s)
        case .null: .null
        case .binary(_, let bytes): .blob(ByteBuffer(bytes: bytes))
        }
    }

    static func value(_ d: SQLiteData) -> SQLValue {
        switch d {
        case .integer(let i): .int(Int64(i))
        case .float(let f): .double(f)
        case .text(let s): .text(s)
        case .blob(let b): .binary(oid: 17, bytes: Array(b.readableBytesView))
        case .null: .null
        }
    }
}
