import Logging
import PostgresNIO

/// The statements a worker runs at every group commit with one text whatever its rows (the jobs upsert,
/// its rows bound as column arrays): run as named prepared statements, parsed and planned by the server
/// once per connection instead of at every commit. Parsing, analysing and planning the jobs upsert was
/// about a third of the server's CPU per tracked job (docs/store.md, Cost); for the batch ledger's record of
/// compact children, about half of the server's CPU per commit. The ledger's finish of children kept as rows
/// is not here: bound as arrays (`= ANY`), prepared or not, it was several times slower than its IN lists.
enum PostgresPrepared {
    /// A statement run by name, its text (with `?` placeholders) given by `Text`.
    struct Statement<Text: PreparedText>: PostgresPreparedStatement {
        typealias Row = PostgresRow
        static var name: String { Text.name }
        static var sql: String { Text.numberedSQL }
        let bindings: PostgresBindings
        func makeBindings() -> PostgresBindings { bindings }
        func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
    }

    /// Runs one prepared statement on a pooled connection or on a leased one.
    struct Runner: Sendable {
        let onClient: @Sendable (PostgresClient, PostgresBindings, Logger) async throws -> [SQLRow]
        let onConnection: @Sendable (PostgresConnection, PostgresBindings, Logger) async throws -> [SQLRow]

        init<Text: PreparedText>(_: Text.Type) {
            onClient = { client, binds, logger in
                try await PostgresBackend.rows(try await client.execute(Statement<Text>(bindings: binds), logger: logger))
            }
            onConnection = { connection, binds, logger in
                try await PostgresBackend.rows(try await connection.execute(Statement<Text>(bindings: binds), logger: logger))
            }
        }
    }

    /// The prepared statements by their text.
    static let runners: [String: Runner] = [
        JobsUpsert.sql: Runner(JobsUpsert.self),
        SlotsFinish.sql: Runner(SlotsFinish.self),
    ]

    /// ``PostgresColumns/upsert``.
    enum JobsUpsert: PreparedText {
        static let name = "warren_jobs_upsert_v1"
        static let sql = PostgresColumns.upsert
        static let numberedSQL = PostgresBackend.numbered(sql)
    }
}

/// ``BatchSlots/finishInOneStatement``.
enum SlotsFinish: PreparedText {
    static let name = "warren_batch_slots_finish_v1"
    static let sql = BatchSlots.finishInOneStatement
    static let numberedSQL = PostgresBackend.numbered(sql)
}

/// A statement's fixed text and the name it is prepared under (changed with the text).
protocol PreparedText: SendableMetatype {
    static var name: String { get }
    /// With `?` placeholders, as the store writes it.
    static var sql: String { get }
    /// With `$1...` placeholders, as PostgreSQL reads it.
    static var numberedSQL: String { get }
}
