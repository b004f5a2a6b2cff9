import ArgumentParser
import Foundation
import WarrenStore

/// The PostgreSQL store a benchmark writes to. Shared by `store`, `batch` and `outbox`.
struct PostgresOptions: ParsableArguments {
    @Option(help: "PostgreSQL store URL file (default: WARREN_STORE_FILE, else /tmp/warren-postgres/url).")
    var postgresURLFile = ProcessInfo.processInfo.environment["WARREN_STORE_FILE"] ?? "/tmp/warren-postgres/url"

    /// The URL the file holds; `nil` when it holds none.
    func url() throws -> StoreURL? {
        try StoreURL.fromEnvironment(["WARREN_STORE_FILE": postgresURLFile])
    }

    /// The URL the file holds; an error naming the file when it holds none.
    func requiredURL() throws -> StoreURL {
        guard let url = try url() else { throw ValidationError("no PostgreSQL URL in \(postgresURLFile)") }
        return url
    }
}
