import Foundation
import Logging
@testable import Warren
@testable import WarrenStore
import XCTest

/// The SQLite store checkpoints its write-ahead log from a connection of its own (``WALCheckpointer``), so
/// commits do not: after a burst of commits, every frame of the log is copied to the database while the
/// store commits nothing, long before SQLite's own threshold (10,000 pages) would have made a commit copy it.
final class SQLiteCheckpointTests: XCTestCase {
    func testTheLogIsCheckpointedOffTheCommitPath() async throws {
        let path = StoreBackends.sqlitePath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        var logger = Logger(label: "test.checkpoint")
        logger.logLevel = .error
        let backend = try await SQLiteBackend.open(path: path, logger: logger)
        let store = SQLJobStore(backend: backend)
        try await store.migrate()
        // A few thousand pages of log: below the automatic threshold.
        let now = Date()
        for commit in 0..<300 {
            let updates = (0..<100).map { i in
                var u = JobUpdate(id: "cp-\(commit)-\(i)", state: .succeeded, attempt: 1, at: now)
                (u.name, u.queue, u.worker, u.startedAt, u.finishedAt) = ("noop", "q.checkpoint", "test:1", now, now)
                return u
            }
            try await store.write(StoreBatch(updates: updates))
        }
        // Some frames are in the log (the checkpointer may have let it start afresh during the burst), and
        // nothing but the checkpointer copies them now: the store commits nothing more, and SQLite's own
        // checkpoint waits for 10,000 pages. Bounded: about 10 s, where a few checkpoint intervals suffice.
        let before = try walIndex(path)
        XCTAssertGreaterThan(before.frames, 0, "the burst is in the log")
        var after = before
        var looks = 0
        while after.copied < after.frames, looks < 50 {
            looks += 1
            try await Task.sleep(for: WALCheckpointer.interval)
            after = try walIndex(path)
        }
        XCTAssertEqual(after.copied, after.frames, "every frame copied to the database, by no commit of the store's")
        XCTAssertEqual(after.frames, before.frames, "no commit in between")
        let s = try await store.status("cp-299-99")
        XCTAssertEqual(s.state, .succeeded)
        await backend.close()
    }

    /// Frames in the log (`mxFrame`) and frames copied to the database (`nBackfill`), read from the
    /// shared-memory file's WAL-index header (sqlite.org/walformat.html: offsets 16 and 96, native order)
    /// without touching the database: a checkpoint of the test's own would hide the checkpointer's.
    private func walIndex(_ path: String) throws -> (frames: Int, copied: Int) {
        let shm = try Data(contentsOf: URL(fileURLWithPath: path + "-shm"))
        func u32(_ at: Int) -> Int { Int(shm[at..<at + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }) }
        return (u32(16), u32(96))
    }
}
