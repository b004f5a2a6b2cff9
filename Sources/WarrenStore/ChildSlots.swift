import Warren

/// Where the batch ledger keeps a compact child (docs/workflows.md, "Cost"): a child whose id is
/// `<batch>.<k>` is bit `k` of its batch's slot bitmaps, 4,096 children per row of `warren_batch_slots`
/// (``BatchSlots``), instead of a row of `warren_batch_children` of its own. Recording a group commit's
/// outcomes then rewrites a row or two of bitmaps instead of looking up and updating each child's row by
/// a 70-byte text key: on PostgreSQL those lookups and updates were about two thirds of the server's CPU
/// per child. Pure; the rule both the registration and the recording of outcomes follow.
enum ChildSlots {
    /// Children per row of `warren_batch_slots`: three bitmaps of at most 512 bytes, well inside the 2 kB
    /// under which PostgreSQL keeps a row whole in its page.
    static let perChunk = 4_096
    /// Slots kept as bits: children with a larger `k` (never made by ``Workflow/batch(_:onSuccess:onComplete:onDeath:queue:)``
    /// below 16 million children) are rows, as any other id.
    static let limit = 1 << 24

    /// The slot of child `id` in `batch`: `k` when `id` is `batch`, a `.`, then `k` in decimal without a
    /// leading zero (so one `k` is one id), below ``limit``; else `nil` (the child is a row).
    static func slot(of id: String, in batch: String) -> Int? {
        var id = id, batch = batch
        return id.withUTF8 { u -> Int? in
            batch.withUTF8 { b -> Int? in
                let start = b.count + 1
                guard !b.isEmpty, u.count > start, u.count - start <= 8, u[b.count] == UInt8(ascii: "."),
                      u.prefix(b.count).elementsEqual(b) else { return nil }
                guard !(u[start] == UInt8(ascii: "0") && u.count > start + 1) else { return nil }
                var k = 0
                for byte in u[start...] {
                    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                    k = k * 10 + Int(byte - UInt8(ascii: "0"))
                }
                return k < limit ? k : nil
            }
        }
    }

    /// The id of slot `k` of `batch`.
    static func id(of k: Int, in batch: String) -> String { "\(batch).\(k)" }

    /// `slots` as bitmaps by chunk (bit `k % perChunk` of chunk `k / perChunk`), chunks ascending.
    static func byChunk(_ slots: some Sequence<Int>) -> [(chunk: Int, bits: SlotBits)] {
        var out: [Int: SlotBits] = [:]
        for k in slots { out[k / perChunk, default: SlotBits()].insert(k % perChunk) }
        return out.sorted { $0.key < $1.key }.map { (chunk: $0.key, bits: $0.value) }
    }
}

/// A set of slots within one chunk as the bytes the store keeps: bit `i` is bit `i % 8` of byte `i / 8`;
/// missing trailing bytes are zeros, so a short bitmap and a padded one are equal.
struct SlotBits: Sendable, Equatable {
    private(set) var bytes: [UInt8]

    init(bytes: [UInt8] = []) { self.bytes = bytes }

    init(_ bits: some Sequence<Int>) {
        self.init(bytes: [])
        for i in bits { insert(i) }
    }

    var isEmpty: Bool { bytes.allSatisfy { $0 == 0 } }
    /// How many slots are set.
    var count: Int { bytes.reduce(0) { $0 + $1.nonzeroBitCount } }

    func contains(_ i: Int) -> Bool { i / 8 < bytes.count && bytes[i / 8] & (1 << UInt8(i % 8)) != 0 }

    mutating func insert(_ i: Int) {
        if i / 8 >= bytes.count { bytes += [UInt8](repeating: 0, count: i / 8 + 1 - bytes.count) }
        bytes[i / 8] |= 1 << UInt8(i % 8)
    }

    /// The slots set, ascending.
    var slots: [Int] {
        var out: [Int] = []
        for (n, byte) in bytes.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << UInt8(bit)) != 0 { out.append(n * 8 + bit) }
        }
        return out
    }

    func union(_ o: SlotBits) -> SlotBits { combine(o, |) }
    func intersection(_ o: SlotBits) -> SlotBits { combine(o, &) }
    func subtracting(_ o: SlotBits) -> SlotBits { combine(o) { $0 & ~$1 } }

    static func == (a: SlotBits, b: SlotBits) -> Bool { a.subtracting(b).isEmpty && b.subtracting(a).isEmpty }

    private func combine(_ o: SlotBits, _ f: (UInt8, UInt8) -> UInt8) -> SlotBits {
        let n = max(bytes.count, o.bytes.count)
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n { out[i] = f(i < bytes.count ? bytes[i] : 0, i < o.bytes.count ? o.bytes[i] : 0) }
        while out.last == 0 { out.removeLast() }
        return SlotBits(bytes: out)
    }
}

/// One row of `warren_batch_slots`: which of its chunk's slots are children of the batch, and which of
/// those succeeded or died. Pure decisions, the same rules as the children's rows: the first outcome
/// recorded wins, so a child that runs twice counts once.
struct SlotChunk: Sendable, Equatable {
    var registered = SlotBits()
    var succeeded = SlotBits()
    var dead = SlotBits()

    /// Registers `slots`; returns how many were new.
    mutating func register(_ slots: SlotBits) -> Int {
        let new = slots.subtracting(registered)
        registered = registered.union(new)
        return new.count
    }

    /// Records outcomes: successes first (a child reported both ways within one commit counts as
    /// succeeded), only for registered slots without an outcome. Returns the slots newly succeeded and dead,
    /// and those not registered here (left for the children's rows: a batch opened before the slots).
    mutating func finish(succeeded ok: SlotBits, dead: SlotBits) -> (succeeded: SlotBits, dead: SlotBits, unregistered: SlotBits) {
        let open = registered.subtracting(succeeded.union(self.dead))
        let newOK = ok.intersection(open)
        let newDead = dead.subtracting(ok).intersection(open)
        succeeded = succeeded.union(newOK)
        self.dead = self.dead.union(newDead)
        return (newOK, newDead, ok.union(dead).subtracting(registered))
    }

    /// The outcome of slot `i` (`nil`: pending, or not a child).
    func outcome(_ i: Int) -> ChildOutcome? {
        succeeded.contains(i) ? .succeeded : dead.contains(i) ? .dead : nil
    }
}

/// How a backend keeps a bitmap (``SQLBackend/slotFormat``).
enum SlotFormat: Sendable {
    /// The bytes as they are, in a BLOB; an empty bitmap is `NULL` (SQLite).
    case blob
    /// `bit varying` of ``ChildSlots/perChunk`` bits, so the server can combine bitmaps itself (`&`, `|`,
    /// `~`, `bit_count`) in the one statement that records a group commit (PostgreSQL).
    case varbit
}

extension SlotBits {
    /// PostgreSQL's `bit varying` OID.
    static let varbitOID: UInt32 = 1562

    /// The bitmap as bound to a statement of a backend keeping `format`.
    func value(_ format: SlotFormat) -> SQLValue {
        switch format {
        case .blob: return isEmpty ? .null : .binary(oid: 17, bytes: bytes)
        case .varbit: return .binary(oid: Self.varbitOID, bytes: varbit)
        }
    }

    /// A bitmap as read from either backend: `NULL` is empty.
    init(stored: SQLValue?) {
        guard case .binary(let oid, let raw)? = stored else { self.init(); return }
        guard oid == Self.varbitOID else { self.init(bytes: raw); return }
        // Binary `bit varying`: the length in bits (4 bytes, big-endian), then the bits, first bit the most
        // significant of its byte.
        self.init(bytes: raw.dropFirst(4).map(Self.reversed))
    }

    /// Binary `bit varying` of ``ChildSlots/perChunk`` bits.
    var varbit: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 + ChildSlots.perChunk / 8)
        PostgresColumns.Columns.append(UInt32(ChildSlots.perChunk), to: &out)
        out += bytes.prefix(ChildSlots.perChunk / 8).map(Self.reversed)
        out += [UInt8](repeating: 0, count: 4 + ChildSlots.perChunk / 8 - out.count)
        return out
    }

    private static func reversed(_ b: UInt8) -> UInt8 {
        var b = b, r: UInt8 = 0
        for _ in 0..<8 { r = r << 1 | b & 1; b >>= 1 }
        return r
    }
}
