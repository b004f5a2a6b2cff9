import CRabbitMQ
import Glibc

/// Owns C memory handed to librabbitmq-c for the duration of one call (strings, tables, arrays): a bump
/// allocator over reusable chunks. ``reset()`` makes all of it reusable at once, so the publish path
/// allocates nothing once warm. Not thread-safe: used on the I/O thread only.
final class CArena {
    private static let chunkSize = 16 * 1024
    private var chunks: [UnsafeMutableRawPointer] = []
    private var chunkIndex = -1
    private var offset = chunkSize
    private var large: [UnsafeMutableRawPointer] = []

    deinit {
        for p in chunks { free(p) }
        for p in large { free(p) }
    }

    /// Forgets every allocation; memory is reused by the next ones.
    func reset() {
        for p in large { free(p) }
        large.removeAll(keepingCapacity: true)
        chunkIndex = -1
        offset = Self.chunkSize
    }

    private func allocateRaw(bytes: Int, alignment: Int) -> UnsafeMutableRawPointer {
        if bytes > Self.chunkSize / 4 {
            let p = malloc(bytes)!
            large.append(p)
            return p
        }
        var start = (offset + alignment - 1) & ~(alignment - 1)
        if start + bytes > Self.chunkSize {
            chunkIndex += 1
            if chunkIndex == chunks.count { chunks.append(malloc(Self.chunkSize)!) }
            start = 0
        }
        offset = start + bytes
        return chunks[chunkIndex] + start
    }

    /// Raw, uninitialised memory for `count` values of `T`.
    func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(1, MemoryLayout<T>.stride * count)
        return allocateRaw(bytes: bytes, alignment: max(8, MemoryLayout<T>.alignment)).bindMemory(to: T.self, capacity: count)
    }

    /// A copy of the bytes as `amqp_bytes_t` (NUL-terminated for the library's string uses).
    func bytes<C: Collection>(_ source: C) -> amqp_bytes_t where C.Element == UInt8 {
        if let copied = source.withContiguousStorageIfAvailable(bytes(contiguous:)) { return copied }
        let n = source.count
        let p = allocate(UInt8.self, count: n + 1)
        _ = UnsafeMutableBufferPointer(start: p, count: n).initialize(from: source)
        p[n] = 0
        return amqp_bytes_t(len: n, bytes: UnsafeMutableRawPointer(p))
    }

    /// One `memcpy` (native strings and arrays, i.e. nearly always).
    private func bytes(contiguous source: UnsafeBufferPointer<UInt8>) -> amqp_bytes_t {
        let n = source.count
        let p = allocate(UInt8.self, count: n + 1)
        if let base = source.baseAddress { p.initialize(from: base, count: n) }
        p[n] = 0
        return amqp_bytes_t(len: n, bytes: UnsafeMutableRawPointer(p))
    }

    /// A copy of the string's UTF-8 bytes as `amqp_bytes_t`.
    func bytes(_ s: String) -> amqp_bytes_t { bytes(s.utf8) }

    /// A NUL-terminated C string copy.
    func cString(_ s: String) -> UnsafePointer<CChar> {
        let b = bytes(s)
        return UnsafePointer(b.bytes.assumingMemoryBound(to: CChar.self))
    }
}

extension amqp_bytes_t {
    /// A Swift copy of the bytes (empty for a null pointer).
    var array: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }

    /// The bytes decoded as UTF-8 (invalid sequences repaired).
    var string: String {
        guard len > 0, let bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }

}
