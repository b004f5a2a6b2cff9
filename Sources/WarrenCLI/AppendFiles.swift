import Foundation
import Synchronization
import Warren
#if canImport(Glibc)
import Glibc
#endif

/// The files the reference jobs append their lines to, each kept open for appending instead of opened and
/// closed for every line: `open` and `close` cost about four times the `write` (5.2 µs against 1.2 µs on
/// the benchmark machine), a fifth of a `record` job's CPU in the worker.
///
/// A path keeps meaning the file at that path, as if it were opened for every line: each open file is
/// watched with inotify (link count, rename, deletion), and a watcher thread, blocked reading the watches'
/// events, closes a file as soon as one concerns it, so a file deleted, renamed or replaced is reopened at
/// its path by the next line. A line can still reach the old file only between the change and the watcher's
/// wake-up (microseconds; `open`-then-`write` had the window between its `open` and its `write`). A file that
/// cannot be watched (inotify missing or out of watches) is opened for each line, as before.
///
/// (Reading the events before every write instead cost a `read` per line, about 3% of the worker's CPU in a
/// `record` drain.)
///
/// Every line is one `O_APPEND` write, so concurrent writers, in this process or another, never interleave.
/// Thread-safe: a lock around the lookup (and the watcher's closing), not the write (runners writing at once
/// would otherwise queue on the lock and sleep: a fifth of the worker's lock waits in a `record` drain). The
/// descriptor is reference-counted (``Descriptor``): a file forgotten or evicted while another runner
/// writes to it is closed after that write. At most ``limit`` files stay open (least recently used first
/// out). There is one instance, ``shared``, whose watcher thread lives as long as the process.
final class AppendFiles: Sendable {
    /// The process's files (the reference jobs share them).
    static let shared = AppendFiles()

    /// Files kept open at most.
    static let limit = 64

    /// The inotify descriptor (blocking: only the watcher reads it), or -1 (no watching, so no file stays
    /// open).
    private let inotify: Int32

    private let state = Mutex(State())

    private struct State: ~Copyable {
        var files: [String: OpenFile] = [:]
        /// Paths per watch (two paths of one file share its watch).
        var paths: [Int32: [String]] = [:]
        /// Counts lines, to order files by their last use.
        var clock: UInt64 = 0
    }

    private struct OpenFile {
        var descriptor: Descriptor
        var watch: Int32
        var used: UInt64
    }

    /// An open file descriptor, closed when the last holder lets it go.
    private final class Descriptor: Sendable {
        let fd: Int32
        init(_ fd: Int32) { self.fd = fd }
        deinit { close(fd) }
    }

    private init() {
        #if canImport(Glibc)
        inotify = inotify_init1(Int32(IN_CLOEXEC))
        #else
        inotify = -1
        #endif
        guard inotify >= 0 else { return }
        let watcher = Thread { [self] in watch() }
        watcher.name = "warren-append-watch"
        watcher.start()
    }

    /// Appends `line` to the file at `path` (created if absent) in one write.
    func append(_ line: String, to path: String) throws {
        let descriptor = try state.withLock { s throws in
            s.clock &+= 1
            if let i = s.files.index(forKey: path) {  // one hash of the path
                s.files.values[i].used = s.clock
                return s.files.values[i].descriptor
            }
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw JobFailure.retryable("cannot open \(path): \(String(cString: strerror(errno)))") }
            let descriptor = Descriptor(fd)
            keep(descriptor, at: path, in: &s)  // or not: then closed after this line
            return descriptor
        }
        var line = line
        let written = line.withUTF8 { write(descriptor.fd, $0.baseAddress, $0.count) }
        guard written == line.utf8.count else {
            let reason = written < 0 ? String(cString: strerror(errno)) : "short write"
            state.withLock { s in
                if s.files[path]?.descriptor === descriptor { forget(path, in: &s) }
            }
            throw JobFailure.retryable("cannot append to \(path): \(reason)")
        }
    }

    /// Watches the file just opened and keeps it open, if it can be watched (if not, nothing holds it but the
    /// caller, and it is closed once its line is written).
    private func keep(_ descriptor: Descriptor, at path: String, in s: inout State) {
        #if canImport(Glibc)
        guard inotify >= 0 else { return }
        // Room first: the file evicted may share the new one's watch (another path to it), which its removal
        // would end.
        if s.files.count >= Self.limit, let oldest = s.files.min(by: { $0.value.used < $1.value.used })?.key {
            forget(oldest, in: &s)
        }
        let watch = inotify_add_watch(inotify, path, UInt32(IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF))
        guard watch >= 0 else { return }
        // The watch is on whatever the path names now: keep the file only if that is still the one opened.
        var opened = stat(), named = stat()
        guard fstat(descriptor.fd, &opened) == 0, stat(path, &named) == 0,
              opened.st_dev == named.st_dev, opened.st_ino == named.st_ino else {
            if s.paths[watch] == nil { inotify_rm_watch(inotify, watch) }
            return
        }
        s.files[path] = OpenFile(descriptor: descriptor, watch: watch, used: s.clock)
        s.paths[watch, default: []].append(path)
        #endif
    }

    /// Lets `path`'s file go (closed once no write holds it), and its watch when no other path shares it.
    private func forget(_ path: String, in s: inout State) {
        guard let file = s.files.removeValue(forKey: path) else { return }
        s.paths[file.watch]?.removeAll { $0 == path }
        if s.paths[file.watch]?.isEmpty == true {
            s.paths[file.watch] = nil
            #if canImport(Glibc)
            inotify_rm_watch(inotify, file.watch)
            #endif
        }
    }

    /// The watcher thread: reads the watches' events as they come and closes every file they concern (its
    /// path is reopened by its next line). Ends only if the inotify descriptor fails.
    private func watch() {
        #if canImport(Glibc)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = read(inotify, buffer.baseAddress, buffer.count)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            state.withLock { s in
                var at = 0
                while at + MemoryLayout<inotify_event>.size <= n {
                    let event = buffer.load(fromByteOffset: at, as: inotify_event.self)
                    // IN_IGNORED alone: a watch this type removed (its paths are gone already).
                    if event.mask != UInt32(IN_IGNORED) {
                        for path in s.paths[event.wd] ?? [] { forget(path, in: &s) }
                    }
                    at += MemoryLayout<inotify_event>.size + Int(event.len)
                }
            }
        }
        #endif
    }
}
