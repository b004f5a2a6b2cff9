import Foundation
import Warren

/// PostgreSQL's form of the jobs upsert: one statement whose text never changes, each column bound once as
/// an array literal (`{"a",NULL,"b"}`) and spread back into rows by `unnest`.
///
/// The portable form (``StoreStatements/upsert(rows:)``) binds 19 values per row: 1,900 binds for 100
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

    /// One array literal per column for `updates` (ids unique: ``JobUpdate/coalesce(_:)`` ran).
    static func binds<C: Collection<JobUpdate>>(_ updates: C) -> [SQLValue] {
        var columns = Array(repeating: "{", count: types.count)
        var first = true
        for u in updates {
            let row = StoreStatements.binds(u)
            for (i, v) in row.enumerated() {
                if !first { columns[i].append(",") }
                append(v, to: &columns[i])
            }
            first = false
        }
        return columns.map { .text($0 + "}") }
    }

    /// Appends one element: NULL, a number, or a double-quoted string with `"` and `\` escaped.
    static func append(_ v: SQLValue, to literal: inout String) {
        switch v {
        case .null: literal.append("NULL")
        case .int(let i): literal.append(String(i))
        case .double(let d): literal.append(d.isNaN ? "NaN" : d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : "\(d)")
        case .text(let s):
            literal.append("\"")
            if s.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                for c in s.unicodeScalars {
                    if c == "\"" || c == "\\" { literal.append("\\") }
                    literal.unicodeScalars.append(c)
                }
            } else {
                literal.append(s)
            }
            literal.append("\"")
        }
    }
}
