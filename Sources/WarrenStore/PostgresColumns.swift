import Foundation
import Warren

/// PostgreSQL's form of the jobs upsert: one statement whose text never changes, each column bound once as
/// an array literal (`{"a",NULL,"b"}`) and spread back into rows by `unnest`.
///
/// The portable form (``StoreStatements/upsert(_:)``) binds up to 19 values per row: 1,900 binds for 100
/// rows, each encoded by the driver and each a parameter the server parses and plans anew for every
/// distinct row count. Here a group commit of any size is 19 text binds and one statement the server has
/// seen before; the worker's CPU per tracked job drops accordingly (docs/store.md, Cost).
enum PostgresColumns {
    /// The SQL type of each of ``StoreSchema/updateColumns``, in order.
    static let types = ["text", "text", "text", "text", "bigint", "bigint", "text", "bigint", "bigint", "bigint",
                        "bigint", "bigint", "bigint", "double precision", "text", "text", "text", "text", "text"]

    /// The upsert of any number of rows (bound with ``binds(_:)``).
    static let upsert: String = {
        let cols = StoreSchema.updateColumns
        precondition(cols.count == types.count)
        let arrays = types.map { "?::\($0)[]" }.joined(separator: ", ")
        return """
            INSERT INTO warren_jobs (\(cols.joined(separator: ", ")))
            SELECT * FROM unnest(\(arrays))
            \(StoreStatements.onConflict)
            """
    }()

    /// One array literal per column for `updates` (ids unique: ``JobUpdate/coalesce(_:)`` ran). Built as
    /// bytes, made text once per column: appending to a `String` piece by piece cost about as much again.
    static func binds<C: Collection<JobUpdate>>(_ updates: C) -> [SQLValue] {
        var columns = Array(repeating: [UInt8(ascii: "{")], count: types.count)
        for i in columns.indices { columns[i].reserveCapacity(updates.count * 16) }
        var first = true
        var row: [SQLValue] = []
        row.reserveCapacity(types.count)
        for u in updates {
            row.removeAll(keepingCapacity: true)
            StoreStatements.appendBinds(u, to: &row)
            for (i, v) in row.enumerated() {
                if !first { columns[i].append(UInt8(ascii: ",")) }
                append(v, to: &columns[i])
            }
            first = false
        }
        for i in columns.indices { columns[i].append(UInt8(ascii: "}")) }
        return columns.map { .text(String(decoding: $0, as: UTF8.self)) }
    }

    /// Appends `i` in decimal, without a `String` per number (a row has seven integer columns).
    static func appendDecimal(_ i: Int64, to literal: inout [UInt8]) {
        if i < 0 { literal.append(UInt8(ascii: "-")) }
        var m = i.magnitude
        var count = 0
        repeat { count += 1; m /= 10 } while m > 0
        var at = literal.count + count
        literal.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        m = i.magnitude
        repeat {
            at -= 1
            literal[at] = UInt8(ascii: "0") + UInt8(m % 10)
            m /= 10
        } while m > 0
    }

    /// Appends one element's UTF-8: NULL, a number, or a double-quoted string with `"` and `\` escaped.
    static func append(_ v: SQLValue, to literal: inout [UInt8]) {
        switch v {
        case .null: literal.append(contentsOf: "NULL".utf8)
        case .int(let i): appendDecimal(i, to: &literal)
        case .double(let d):
            literal.append(contentsOf: (d.isNaN ? "NaN" : d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : "\(d)").utf8)
        case .text(let s):
            literal.append(UInt8(ascii: "\""))
            for byte in s.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { literal.append(UInt8(ascii: "\\")) }
                literal.append(byte)
            }
            literal.append(UInt8(ascii: "\""))
        }
    }
}
