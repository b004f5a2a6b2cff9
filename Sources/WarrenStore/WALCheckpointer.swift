import Logging
import SQLiteNIO

/// Checkpoints a SQLite database's write-ahead log from a connection of its own, every ``interval``, so
/// that the store's commits do not.
///
/// Left to itself, SQLite checkpoints in the commit that takes the log past `wal_autocheckpoint` pages
/// (10,000 here, about 40 MB): that commit copies the whole log into the database and syncs it, 100-200 ms
/// during which every job waiting for the store waits too. A passive checkpoint from another connection
/// copies what is committed while commits go on. When it has caught up with the log, the next commit
/// starts the log afresh; under commits that never pause it stays a little behind, and the automatic
/// checkpoint, when the threshold comes, has only that little left to copy before the log starts afresh.
/// Either way no commit copies the whole log. Should the checkpointer be missing, SQLite's own remains.
///
/// Threading: one task per checkpointer; each checkpoint runs on the driver's thread pool, like any
/// statement, beside the store's own connection. ``stop()`` ends the task and closes the connection.
final class WALCheckpointer: Sendable {
    /// Time between two checkpoints. Short enough that little is left for the automatic one when commits
    /// never pause (a busy worker writes a few thousand pages of log a second); a page rewritten by many
    /// commits within it is copied once.
    static let interval: Duration = .milliseconds(200)

    private let connection: SQLiteConnection
    private let task: Task<Void, Never>

    /// A checkpointer of the database at `path`, or `nil` if a second connection cannot be opened (logged:
    /// the store then checkpoints as SQLite does by itself).
    static func start(path: String, logger: Logger) async -> WALCheckpointer? {
        do {
            let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            return WALCheckpointer(connection: connection)
        } catch {
            logger.warning("SQLite store: no background checkpoints; commits will checkpoint", metadata: [
                "path": "\(path)", "error": "\(error)"])
            return nil
        }
    }

    private init(connection: SQLiteConnection) {
        self.connection = connection
        // Errors are ignored: a checkpoint that cannot run now (another process checkpointing, a busy
        // database) is retried at the next interval, and the automatic one remains.
        self.task = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.interval)
                guard !Task.isCancelled else { return }
                _ = try? await connection.query("PRAGMA wal_checkpoint(PASSIVE)", [])
            }
        }
    }

    /// Stops checkpointing and closes the connection.
    func stop() async {
        task.cancel()
        await task.value
        try? await connection.close()
    }
}
