import Foundation
import Warren
import WarrenAMQP
@testable import WarrenStore
import XCTest

/// The two real backends every store test runs against: a fresh SQLite file, and the local PostgreSQL
/// (deploy/postgres-local.sh, URL with the test role's password read from the file in
/// WARREN_TEST_POSTGRES_URL_FILE, as WARREN_STORE_FILE would be).
enum StoreBackends {
    static var postgresURLFile: String {
        ProcessInfo.processInfo.environment["WARREN_TEST_POSTGRES_URL_FILE"] ?? "/tmp/warren-postgres/url"
    }

    /// A new SQLite database in a temporary file.
    static func sqlitePath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("warren-store-\(UUID().uuidString.prefix(8)).db").path
    }

    /// The PostgreSQL store URL, through the WARREN_STORE_FILE path.
    static func postgresURL() throws -> StoreURL {
        guard let url = try StoreURL.fromEnvironment(["WARREN_STORE_FILE": postgresURLFile]) else {
            throw StoreError(.notConfigured, "no PostgreSQL URL in \(postgresURLFile) (scripts/test.sh writes it)")
        }
        return url
    }

    /// Opens one store per backend, named for messages; `sqlite` may be given to share a file.
    static func open(sqlite: String? = nil) async throws -> [(name: String, store: any JobStore, url: StoreURL)] {
        let lite = StoreURL.sqlite(path: sqlite ?? sqlitePath())
        let pg = try postgresURL()
        return [("sqlite", try await lite.open(logger: quietLogger("test.store")), lite),
                ("postgres", try await pg.open(logger: quietLogger("test.store")), pg)]
    }

    /// Runs `body` against each backend, closing the stores afterwards.
    static func each(_ body: (String, any JobStore, StoreURL) async throws -> Void) async throws {
        for (name, store, url) in try await open() {
            do {
                try await body(name, store, url)
            } catch {
                XCTFail("\(name): \(error)")
            }
            await store.close()
        }
    }

    /// The PostgreSQL store on a pool of one connection (what that connection did is then visible to a
    /// query on it), migrated; with its backend, for raw queries.
    static func postgresOnOneConnection() async throws -> (backend: PostgresBackend, store: SQLJobStore) {
        guard case .postgres(let host, let port, let user, let password, let database) = try postgresURL() else {
            throw StoreError(.invalidConfiguration, "the PostgreSQL URL is not a postgres URL")
        }
        let backend = PostgresBackend(host: host, port: port, user: user, password: password, database: database,
                                      maxConnections: 1, logger: quietLogger("test.store"))
        let store = SQLJobStore(backend: backend)
        try await store.migrate()
        return (backend, store)
    }

    /// A job id no other test uses.
    static func id(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(12).lowercased())" }
}

/// Runs `body` with a worker (concurrency 8) on a new unique queue named after `prefix`, with the batch and
/// workflow middleware over `ledger` (nil: a worker without a store); stops it and deletes the queue after.
func withBatchWorker(_ prefix: String, ledger: (any BatchLedger)?, registry: JobRegistry,
                     _ body: (Topology.Queue, JobProducer, AMQPConnection) async throws -> Void) async throws {
    let conn = try await JobsBroker.connect()
    let q = Topology.Queue(JobsBroker.uniqueQueue(prefix))
    let topology = Topology(queues: [q])
    let middleware: [any JobMiddleware] = [
        BatchMiddleware(ledger: ledger, connection: conn, topology: topology, logger: quietLogger("batch")),
        WorkflowMiddleware(connection: conn, topology: topology, ledger: ledger, logger: quietLogger("wf")),
    ]
    let (running, producer) = try await startWorker(conn, topology, registry, middleware: middleware) { $0.concurrency = 8 }
    do { try await body(q, producer, conn) } catch { XCTFail("\(error)") }
    try await running.stop()
    await JobsBroker.cleanUp(q, on: conn)
    await conn.close()
}
