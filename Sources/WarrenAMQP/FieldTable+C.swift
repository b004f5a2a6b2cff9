import CRabbitMQ

// Conversion between Swift field tables and librabbitmq-c's amqp_table_t. C memory is read and copied out
// at once (decode) or allocated in a CArena that outlives the library call (encode).

enum FieldTableCodec {
    static func decode(_ table: amqp_table_t) -> FieldTable {
        var result = FieldTable(minimumCapacity: Int(table.num_entries))
        guard table.num_entries > 0, let entries = table.entries else { return result }
        for i in 0..<Int(table.num_entries) {
            let entry = entries[i]
            result[entry.key.string] = decode(entry.value)
        }
        return result
    }

    static func decode(_ v: amqp_field_value_t) -> FieldValue {
        switch Int32(v.kind) {
        case Int32(UInt8(ascii: "t")): return .bool(v.value.boolean != 0)
        case Int32(UInt8(ascii: "b")): return .int8(v.value.i8)
        case Int32(UInt8(ascii: "B")): return .uint8(v.value.u8)
        case Int32(UInt8(ascii: "s")): return .int16(v.value.i16)
        case Int32(UInt8(ascii: "u")): return .uint16(v.value.u16)
        case Int32(UInt8(ascii: "I")): return .int32(v.value.i32)
        case Int32(UInt8(ascii: "i")): return .uint32(v.value.u32)
        case Int32(UInt8(ascii: "l")): return .int64(v.value.i64)
        case Int32(UInt8(ascii: "L")): return .int64(Int64(bitPattern: v.value.u64))
        case Int32(UInt8(ascii: "f")): return .float(v.value.f32)
        case Int32(UInt8(ascii: "d")): return .double(v.value.f64)
        case Int32(UInt8(ascii: "D")): return .decimal(scale: v.value.decimal.decimals, value: v.value.decimal.value)
        case Int32(UInt8(ascii: "S")): return .string(v.value.bytes.string)
        case Int32(UInt8(ascii: "x")): return .bytes(v.value.bytes.array)
        case Int32(UInt8(ascii: "T")): return .timestamp(v.value.u64)
        case Int32(UInt8(ascii: "F")): return .table(decode(v.value.table))
        case Int32(UInt8(ascii: "A")):
            var items: [FieldValue] = []
            let array = v.value.array
            if array.num_entries > 0, let entries = array.entries {
                items.reserveCapacity(Int(array.num_entries))
                for i in 0..<Int(array.num_entries) { items.append(decode(entries[i])) }
            }
            return .array(items)
        default: return .void
        }
    }

    static func encode(_ table: FieldTable, in arena: CArena) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = arena.allocate(amqp_table_entry_t.self, count: table.count)
        for (i, (key, value)) in table.enumerated() {
            (entries + i).initialize(to: amqp_table_entry_t(key: arena.bytes(key), value: encode(value, in: arena)))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    static func encode(_ value: FieldValue, in arena: CArena) -> amqp_field_value_t {
        var v = amqp_field_value_t()
        func kind(_ c: Unicode.Scalar) -> UInt8 { UInt8(ascii: c) }  // folded to a constant per case
        switch value {
        case .void: v.kind = kind("V")
        case .bool(let b): v.kind = kind("t"); v.value.boolean = b ? 1 : 0
        case .int8(let x): v.kind = kind("b"); v.value.i8 = x
        case .uint8(let x): v.kind = kind("B"); v.value.u8 = x
        case .int16(let x): v.kind = kind("s"); v.value.i16 = x
        case .uint16(let x): v.kind = kind("u"); v.value.u16 = x
        case .int32(let x): v.kind = kind("I"); v.value.i32 = x
        case .uint32(let x): v.kind = kind("i"); v.value.u32 = x
        case .int64(let x): v.kind = kind("l"); v.value.i64 = x
        case .float(let x): v.kind = kind("f"); v.value.f32 = x
        case .double(let x): v.kind = kind("d"); v.value.f64 = x
        case .decimal(let scale, let value):
            v.kind = kind("D"); v.value.decimal = amqp_decimal_t(decimals: scale, value: value)
        case .string(let s): v.kind = kind("S"); v.value.bytes = arena.bytes(s)
        case .bytes(let b): v.kind = kind("x"); v.value.bytes = arena.bytes(b)
        case .timestamp(let t): v.kind = kind("T"); v.value.u64 = t
        case .table(let t): v.kind = kind("F"); v.value.table = encode(t, in: arena)
        case .array(let items):
            v.kind = kind("A")
            let entries = arena.allocate(amqp_field_value_t.self, count: items.count)
            for (i, item) in items.enumerated() { (entries + i).initialize(to: encode(item, in: arena)) }
            v.value.array = amqp_array_t(num_entries: Int32(items.count), entries: items.isEmpty ? nil : entries)
        }
        return v
    }
}
