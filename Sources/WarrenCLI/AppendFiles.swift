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
/// watched with inotify (link count, rename, deletion), and the watch's events are read before every write,
/// so a file deleted, renamed or replaced is reopened at its path by the next line. The window in which a
/// line can still reach the old file (between that read and the write) is the one `open`-then-`write` had.
/// A file that cannot be watched (inotify missing or out of watches) is opened for each line, as before.
///
/// Every line is one `O_APPEND` write, so concurrent writers, in this process or another, never interleave.
/// Thread-safe: one lock around the lookup and the write; at most ``limit`` files stay open (least recently
/// used closed first).
final class AppendFiles: Sendable {
    /// The process's files (the reference jobs share them).
    static let shared = AppendFiles()

    /// Files kept open at most.
    static let limit = 64

    private let state = Mutex(State())

    private struct State: ~Copyable {
        /// The inotify descriptor, or -1 (no watching, so no file stays open).
        var inotify: Int32 = -1
        var files: [String: OpenFile] = [:]
        /// Paths per watch (two paths of one file share its watch).
        var paths: [Int32: [String]] = [:]
        /// Counts lines, to order files by their last use.
        var clock: UInt64 = 0

        deinit {
            for file in files.values { close(file.fd) }
            if inotify >= 0 { close(inotify) }
        }
    }

    private struct OpenFile {
        var fd: Int32
        var watch: Int32
        var used: UInt64
    }

    init() {
        #if canImport(Glibc)
        state.withLock { $0.inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        #endif
    }

    /// Appends `line` to the file at `path` (created if absent) in one write.
    func append(_ line: String, to path: String) throws {
        var line = line
        try line.withUTF8 { bytes in
            try state.withLock { s throws in
                Self.forgetChanged(&s)
                s.clock &+= 1
                let fd: Int32
                var once = false
                if var file = s.files[path] {
                    file.used = s.clock
                    s.files[path] = file
                    fd = file.fd
                } else {
                    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
                    guard fd >= 0 else { throw JobFailure.retryable("cannot open \(path): \(String(cString: strerror(errno)))") }
                    once = !Self.keep(fd, at: path, in: &s)
                }
                defer { if once { close(fd) } }
                let written = write(fd, bytes.baseAddress, bytes.count)
                guard written == bytes.count else {
                    let reason = written < 0 ? String(cString: strerror(errno)) : "short write"
                    if !once { Self.forget(path, in: &s) }
                    throw JobFailure.retryable("cannot append to \(path): \(reason)")
                }
            }
        }
    }

    /// Watches the file just opened as `fd` and keeps it open; `false` when it cannot be watched (the caller
    /// then closes it after its write).
    private static func keep(_ fd: Int32, at path: String, in s: inout State) -> Bool {
        #if canImport(Glibc)
        guard s.inotify >= 0 else { return false }
        // Room first: the file evicted may share the new one's watch (another path to it), which its removal
        // would end.
        if s.files.count >= limit, let oldest = s.files.min(by: { $0.value.used < $1.value.used })?.key {
            forget(oldest, in: &s)
        }
        let watch = inotify_add_watch(s.inotify, path, UInt32(IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF))
        guard watch >= 0 else { return false }
        // The watch is on whatever the path names now: keep the file only if that is still the one opened.
        var opened = stat(), named = stat()
        guard fstat(fd, &opened) == 0, stat(path, &named) == 0,
              opened.st_dev == named.st_dev, opened.st_ino == named.st_ino else {
            if s.paths[watch] == nil { inotify_rm_watch(s.inotify, watch) }
            return false
        }
        s.files[path] = OpenFile(fd: fd, watch: watch, used: s.clock)
        s.paths[watch, default: []].append(path)
        return true
        #else
        return false
        #endif
    }

    /// Closes `path`'s file, and its watch when no other path shares it.
    private static func forget(_ path: String, in s: inout State) {
        guard let file = s.files.removeValue(forKey: path) else { return }
        close(file.fd)
        s.paths[file.watch]?.removeAll { $0 == path }
        if s.paths[file.watch]?.isEmpty == true {
            s.paths[file.watch] = nil
            #if canImport(Glibc)
            inotify_rm_watch(s.inotify, file.watch)
            #endif
        }
    }

    /// Reads the pending watch events and closes every file they concern (its path is reopened by its next
    /// line). One non-blocking `read` when nothing changed.
    private static func forgetChanged(_ s: inout State) {
        #if canImport(Glibc)
        guard s.inotify >= 0, !s.files.isEmpty else { return }
        withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 8) { buffer in
            while true {
                let n = read(s.inotify, buffer.baseAddress, buffer.count)
                guard n > 0 else { return }
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
