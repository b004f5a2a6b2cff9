#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Gives back the code pages that start-up touched and an idle worker does not use.
///
/// Most of a fresh worker's resident memory is clean, file-backed code and constants of the executable
/// (Swift runtime metadata scans, Foundation, argument parsing, topology declaration): about 15 MB of a
/// 20 MB fully static worker, against about 5 MB that an idle worker keeps touching (poll loop, heartbeats,
/// metrics sampling). ``release()`` drops this process's mappings of such pages with
/// `madvise(MADV_DONTNEED)`. Nothing is lost: the pages stay in the page cache and fault back in (a minor
/// fault, microseconds) when code runs again, so a busy worker simply grows back to its working set.
///
/// Only read-only, file-backed mappings with no private dirty or anonymous pages are advised: writable data,
/// heap, stacks and relocated read-only data (RELRO), even swapped out, are never touched.
public enum StartupPages {
    /// Releases clean read-only file-backed mappings; returns the bytes advised (0 off Linux or on error).
    @discardableResult
    public static func release() -> Int {
        #if os(Linux)
        // Read to the end: /proc files report size 0, and a one-shot read stops at the first page.
        guard let data = try? FileHandle(forReadingAtPath: "/proc/self/smaps")?.readToEnd() else { return 0 }
        let smaps = String(decoding: data, as: UTF8.self)
        var released = 0
        var current: (start: UInt, end: UInt, eligible: Bool)?
        func flush() {
            guard let c = current, c.eligible, c.end > c.start,
                  let address = UnsafeMutableRawPointer(bitPattern: c.start) else { return }
            if madvise(address, Int(c.end - c.start), MADV_DONTNEED) == 0 { released += Int(c.end - c.start) }
        }
        for line in smaps.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if let dash = first.firstIndex(of: "-"), fields.count >= 5,
               let start = UInt(first[..<dash], radix: 16), let end = UInt(first[first.index(after: dash)...], radix: 16)
            {
                // A mapping header: "start-end perms offset dev inode [path]".
                flush()
                let perms = fields[1]
                let path = fields.count >= 6 ? fields[5] : ""
                current = (start, end, (perms == "r-xp" || perms == "r--p") && path.hasPrefix("/"))
            } else if first == "Private_Dirty:" || first == "Anonymous:" || first == "Swap:", fields.count >= 2, fields[1] != "0" {
                current?.eligible = false
            }
        }
        flush()
        return released
        #else
        return 0
        #endif
    }
}
