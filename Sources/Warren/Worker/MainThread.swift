import Dispatch
import Synchronization

/// Runs a process's asynchronous entry point while its main thread waits for it: what a worker executable's
/// synchronous `main()` calls instead of being an `async` `main()`.
///
/// An `async` `main()` (including `@main` on an `AsyncParsableCommand`) parks the main thread in
/// `dispatch_main()`, which ends that thread with `pthread_exit`. The exit unwinds the thread's stack, and in
/// a fully static executable (`-static-executable`, as scripts/build-static.sh builds `warren`) the
/// unwinder's first search sorts every frame description entry of the executable before it can look one up:
/// for `warren`, about 200,000 entries, some 50 ms of CPU and 10 MiB of memory read at every start, on a
/// thread that runs beside the worker's first jobs. With ``run(_:)`` the main thread blocks until `body`
/// is done and never exits, so nothing is unwound. (A dynamically linked executable looks frames up through
/// the sorted table the linker wrote, `.eh_frame_hdr`, and loses little either way.)
///
/// ```swift
/// @main
/// enum App {
///     static func main() throws {
///         try MainThread.run { try await runWorker() }
///     }
/// }
/// ```
///
/// `body` runs detached on the global executor, as the tasks it starts do. Code that needs the main actor
/// must not run under this: `main()` is isolated to the main actor, whose queue nothing drains while the
/// main thread waits (Warren and its dependencies never use it).
public enum MainThread {
    /// Runs `body` on the global executor and blocks the calling (main) thread until it returns; rethrows
    /// what it throws.
    public static func run(_ body: @escaping @Sendable () async throws -> Void) throws {
        let outcome = Mutex<(any Error)?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { try await body() } catch { outcome.withLock { $0 = error } }
            done.signal()
        }
        done.wait()
        if let error = outcome.withLock({ $0 }) { throw error }
    }
}
