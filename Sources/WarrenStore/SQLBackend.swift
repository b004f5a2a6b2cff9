import Foundation
import Warren

/// A value bound to or read from a statement: the four types the store's schema uses (times are
/// milliseconds since 1970 in BIGINT columns, the same on both backends).
enum SQLValue: Sendable, Hashable {
    case int(Int64)
    case double(Double)
    case text(String)
    case null
    /// A value already in PostgreSQL's binary format, of the type whose OID is `oid` (``PostgresColumns``'
    /// arrays, ``SlotBits``' `bit varying`). A BLOB on SQLite. BLOB (read as OID 17) and `bit varying`
    /// columns read as this.
    case binary(oid: UInt32, bytes: [UInt8])

    static func text(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    static func double(_ d: Double?) -> SQLValue { d.map { .double($0) } ?? .null }
    static func time(_ d: Date?) -> SQLValue { d.map { .int(millis($0)) } ?? .null }
    static func int(_ i: Int) -> SQLValue { .int(Int64(i)) }

    /// A time as the store keeps it: milliseconds since 1970.
    static func millis(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1000).rounded()) }

    var isNull: Bool {
        if case .null = self { true } else { false }
    }
}

/// One result row, by column name.
struct SQLRow: Sendable {
    var values: [String: SQLValue]

    func string(_ c: String) -> String? { if case .text(let s)? = values[c] { s } else { nil } }
    func int(_ c: String) -> Int? {
        switch values[c] {
        case .int(let i)?: Int(i)
        case .double(let d)?: Int(d)
        default: nil
        }
    }
    func double(_ c: String) -> Double? {
        switch values[c] {
        case .double(let d)?: d
        case .int(let i)?: Double(i)
        default: nil
        }
    }
    func time(_ c: String) -> Date? { int(c).map { Date(timeIntervalSince1970: Double($0) / 1000) } }
}

/// Runs statements. SQL is written once for both backends with `?` placeholders (PostgreSQL's backend
/// numbers them `$1...`); it uses only what SQLite 3.35+ and PostgreSQL 15 both have (ON CONFLICT ...
/// DO UPDATE ... WHERE, RETURNING, row values).
protocol SQLSession: Sendable {
    func query(_ sql: String, _ binds: [SQLValue]) async throws(StoreError) -> [SQLRow]
}

/// A database behind a ``SQLJobStore``.
protocol SQLBackend: SQLSession {
    /// Backend and place, without credentials.
    var location: String { get }
    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws). On SQLite
    /// the transaction takes the write lock at once (BEGIN IMMEDIATE).
    func transaction<T: Sendable>(_ body: @Sendable (any SQLSession) async throws(StoreError) -> T) async throws(StoreError) -> T
    /// A statement that serialises concurrent migrations inside the migration transaction, if one is needed.
    var migrationLock: String? { get }
    /// Backend-only tables (idempotent statements), created after the shared schema's migrations.
    var extraSchema: [String] { get }
    /// Backend-only statements of schema version `version`, run after its shared ones.
    func ownMigrations(_ version: Int) -> [String]
    /// Write transactions worth keeping in flight at once (``Warren/JobStore/concurrentWrites``).
    var concurrentWrites: Int { get }
    /// Whether a `WITH` clause may hold `UPDATE ... RETURNING` (PostgreSQL): several writes in one atomic
    /// statement, one round trip.
    var writableCTEs: Bool { get }
    /// Whether jobs are upserted as one array per column (``PostgresColumns``, PostgreSQL) rather than as
    /// multi-row `VALUES`.
    var columnArrays: Bool { get }
    /// A statement that refreshes the planner's statistics of `warren_batch_children`, run after a large
    /// batch registers its children (``SQLBatchLedger/analyzeAfter``), or `nil` where no planner needs it.
    var childrenStatistics: String? { get }
    /// What a `SELECT` appends to lock the rows it reads until the transaction ends (PostgreSQL's
    /// `FOR UPDATE`); empty where the transaction holds the whole database already (SQLite's write lock).
    var rowLock: String { get }
    /// How compact children's bitmaps are kept (``BatchSlots``).
    var slotFormat: SlotFormat { get }
    func close() async
}

extension SQLSession {
    @discardableResult
    func run(_ sql: String, _ binds: [SQLValue] = []) async throws(StoreError) -> [SQLRow] {
        try await query(sql, binds)
    }
}
