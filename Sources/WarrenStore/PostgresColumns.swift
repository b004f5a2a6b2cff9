import Foundation
import Warren

/// PostgreSQL's form of the jobs upsert: one statement whose text never changes, each column bound once as
/// an array in PostgreSQL's binary format and spread back into rows by `unnest`.
///
/// The portable form (``StoreStatements/upsert(_:)``) binds up to 19 values per row: 1,900 binds for 100
/// rows, each encoded by the driver and each a parameter the server parses and plans anew for every
/// distinct row count. Here a group commit of any size is 19 binds and one prepared statement.
///
/// Binary, not text: an array literal (`{"a",NULL,"b"}`) had to be escaped byte by byte here and parsed
/// element by element by the server (`array_in`, then each element's input function): about a tenth of
/// the server's CPU per tracked job and, with the literals built through ``SQLValue``s, 5% of the worker's
/// (perf, PostgreSQL store, `record` jobs at default flags, 2026-12-01). In binary, an element is its length
/// and its bytes (text as UTF-8, integers and doubles as 8 big-endian bytes): copied, never escaped or parsed.
enum PostgresColumns {
    /// A column's SQL element type, its OID and the OID of an array of it (pg_type).
    struct ElementType {
        let name: String
        let oid: UInt32
        /// `_text`, `_int8`, `_float8`: the type of the bound value.
        let arrayOID: UInt32
        static let text = ElementType(name: "text", oid: 25, arrayOID: 1009)
        static let bigint = ElementType(name: "bigint", oid: 20, arrayOID: 1016)
        static let double = ElementType(name: "double precision", oid: 701, arrayOID: 1022)
        static let varbit = ElementType(name: "bit varying", oid: 1562, arrayOID: 1563)
    }

    /// A one-dimensional array without NULLs of `elements`, each already in `type`'s binary format.
    static func array(_ type: ElementType, _ elements: [[UInt8]]) -> SQLValue {
        var a: [UInt8] = []
        a.reserveCapacity(20 + elements.reduce(0) { $0 + 4 + $1.count })
        for word in [1, 0, type.oid, UInt32(elements.count), 1] as [UInt32] { Columns.append(word, to: &a) }
        for e in elements {
            Columns.append(UInt32(e.count), to: &a)
            a += e
        }
        return .binary(oid: type.arrayOID, bytes: a)
    }

    /// A bigint element: its 8 bytes, most significant first (PostgreSQL's binary format).
    static func bigint(_ i: Int64) -> [UInt8] {
        var a: [UInt8] = []
        Columns.append(UInt32(truncatingIfNeeded: UInt64(bitPattern: i) >> 32), to: &a)
        Columns.append(UInt32(truncatingIfNeeded: UInt64(bitPattern: i)), to: &a)
        return a
    }

    /// The element type of each of ``StoreSchema/updateColumns``, in order.
    static let types: [ElementType] = [.text, .text, .text, .text, .bigint, .bigint, .text, .bigint, .bigint, .bigint,
                                       .bigint, .bigint, .bigint, .double, .text, .text, .text, .text, .text]

    /// The upsert of any number of rows (bound with ``binds(_:)``).
    static let upsert: String = {
        let cols = StoreSchema.updateColumns
        precondition(cols.count == types.count)
        let arrays = types.map { "?::\($0.name)[]" }.joined(separator: ", ")
        return """
            INSERT INTO warren_jobs (\(cols.joined(separator: ", ")))
            SELECT * FROM unnest(\(arrays))
            \(StoreStatements.onConflict)
            """
    }()

    /// One binary array per column for `updates` (at least one; ids unique: ``JobUpdate/coalesce(_:)`` ran).
    static func binds<C: Collection<JobUpdate>>(_ updates: C) -> [SQLValue] {
        var columns = Columns(rows: updates.count)
        for u in updates { StoreStatements.write(u, to: &columns) }
        return columns.values()
    }

    /// The arrays being written, a row at a time: each value goes to the next column.
    struct Columns: JobRowSink {
        private var arrays: [[UInt8]]
        private var column = 0

        /// Headers written for `rows` elements per column: one dimension of `rows` from 1, no NULL yet.
        init(rows: Int) {
            arrays = types.map { type in
                var a: [UInt8] = []
                a.reserveCapacity(20 + rows * 16)
                for word in [1, 0, type.oid, UInt32(rows), 1] as [UInt32] { Self.append(word, to: &a) }
                return a
            }
        }

        mutating func text(_ s: String?) {
            guard var s else { return null() }
            s.withUTF8 { utf8 in
                Self.append(UInt32(utf8.count), to: &arrays[column])
                arrays[column].append(contentsOf: utf8)
            }
            next()
        }

        mutating func int(_ i: Int64?) {
            guard let i else { return null() }
            element(UInt64(bitPattern: i))
        }

        mutating func double(_ d: Double?) {
            guard let d else { return null() }
            element(d.bitPattern)
        }

        private mutating func element(_ bits: UInt64) {
            Self.append(8, to: &arrays[column])
            Self.append(UInt32(truncatingIfNeeded: bits >> 32), to: &arrays[column])
            Self.append(UInt32(truncatingIfNeeded: bits), to: &arrays[column])
            next()
        }

        private mutating func null() {
            Self.append(UInt32.max, to: &arrays[column])  // length -1
            arrays[column][7] = 1  // the header's has-nulls word (the second, big-endian)
            next()
        }

        private mutating func next() { column = column + 1 == arrays.count ? 0 : column + 1 }

        /// The arrays as binds.
        func values() -> [SQLValue] {
            zip(types, arrays).map { .binary(oid: $0.arrayOID, bytes: $1) }
        }

        static func append(_ word: UInt32, to a: inout [UInt8]) {
            withUnsafeBytes(of: word.bigEndian) { a.append(contentsOf: $0) }
        }
    }
}
