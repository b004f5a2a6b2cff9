import Warren
@testable import WarrenStore
import XCTest

/// The rules by which the batch ledger keeps compact children as bits (``ChildSlots``, ``SlotBits``,
/// ``SlotChunk``): pure, no store.
final class ChildSlotsTests: XCTestCase {
    /// One `k` is one id: decimal without a leading zero, after the batch and one `.`, below the limit.
    func testASlotIsTheCanonicalNumberAfterTheBatch() {
        let b = "0195a3c2-7f10-7000-8000-00000000b47c"
        XCTAssertEqual(ChildSlots.slot(of: "\(b).0", in: b), 0)
        XCTAssertEqual(ChildSlots.slot(of: "\(b).4096", in: b), 4096)
        XCTAssertEqual(ChildSlots.slot(of: "\(b).\(ChildSlots.limit - 1)", in: b), ChildSlots.limit - 1)
        XCTAssertEqual(ChildSlots.slot(of: "outer.7.3", in: "outer.7"), 3, "a nested batch's children")
        for id in ["\(b).07", "\(b).", b, "\(b).1x", "\(b).-1", "\(b).1.2", "\(b)x.1", "x\(b).1", "\(b).\(ChildSlots.limit)",
                   "\(b).123456789", "other.1"] {
            XCTAssertNil(ChildSlots.slot(of: id, in: b), id)
        }
        XCTAssertNil(ChildSlots.slot(of: ".1", in: ""), "no batch, no slot")
        XCTAssertEqual(ChildSlots.id(of: 42, in: b), "\(b).42")
        XCTAssertEqual(ChildSlots.byChunk([8_200, 0, 4_095, 4_096]).map(\.chunk), [0, 1, 2])
        XCTAssertEqual(ChildSlots.byChunk([8_200, 0, 4_095, 4_096]).map(\.bits.slots), [[0, 4_095], [0], [8]])
    }

    func testBitsAreBytesAndTrailingZerosDoNotCount() {
        var a = SlotBits([0, 9, 17])
        XCTAssertEqual(a.bytes, [0b0000_0001, 0b0000_0010, 0b0000_0010])
        XCTAssertEqual(a.count, 3)
        XCTAssertEqual(a.slots, [0, 9, 17])
        XCTAssertTrue(a.contains(9))
        XCTAssertFalse(a.contains(8))
        XCTAssertFalse(a.contains(4_000), "beyond the bytes: not set")
        a.insert(9)
        XCTAssertEqual(a.count, 3)
        XCTAssertEqual(SlotBits([1]), SlotBits(bytes: [0b10, 0, 0]))
        XCTAssertEqual(a.union(SlotBits([1])).slots, [0, 1, 9, 17])
        XCTAssertEqual(a.subtracting(SlotBits([17])).bytes, [1, 2], "trailing zero bytes dropped")
        XCTAssertEqual(a.intersection(SlotBits([9, 100])).slots, [9])
        XCTAssertTrue(SlotBits(bytes: [0, 0]).isEmpty)
        XCTAssertFalse(SlotBits([0]).isEmpty)
    }

    /// The same rules as the children's rows: only registered slots, the first outcome wins, successes
    /// first within one commit, a child that finishes twice counts once.
    func testTheFirstOutcomeOfARegisteredChildWins() {
        var c = SlotChunk()
        XCTAssertEqual(c.register(SlotBits([1, 2, 3, 4])), 4)
        XCTAssertEqual(c.register(SlotBits([4, 5])), 1, "registered twice counts once")
        var r = c.finish(succeeded: SlotBits([1, 2]), dead: SlotBits([2, 3, 9]))
        XCTAssertEqual(r.succeeded.slots, [1, 2], "reported both ways in one commit: succeeded")
        XCTAssertEqual(r.dead.slots, [3])
        XCTAssertEqual(r.unregistered.slots, [9], "not a child here: left to the rows")
        r = c.finish(succeeded: SlotBits([1, 3, 4]), dead: SlotBits([5]))
        XCTAssertEqual(r.succeeded.slots, [4], "1 and 3 had their outcome")
        XCTAssertEqual(r.dead.slots, [5])
        XCTAssertEqual([1, 2, 3, 4, 5, 6].map(c.outcome), [.succeeded, .succeeded, .dead, .succeeded, .dead, nil])
    }

    /// PostgreSQL keeps the bitmaps as `bit varying` of 4,096 bits, first bit the most significant of its
    /// byte; SQLite as the bytes themselves, `NULL` when empty. Both read back as the same set.
    func testBitmapsAsEachBackendKeepsThem() {
        let bits = SlotBits([0, 9, 4_095])
        let varbit = bits.varbit
        XCTAssertEqual(varbit.count, 4 + 512)
        XCTAssertEqual(Array(varbit.prefix(6)), [0, 0, 0x10, 0, 0x80, 0x40])
        XCTAssertEqual(varbit.last, 0x01)
        XCTAssertEqual(SlotBits(stored: bits.value(.varbit)), bits)
        XCTAssertEqual(SlotBits(stored: bits.value(.blob)), bits)
        XCTAssertEqual(SlotBits().value(.blob), .null)
        XCTAssertEqual(SlotBits(stored: .null), SlotBits())
        XCTAssertEqual(SlotBits(stored: SlotBits().value(.varbit)).count, 0)
    }
}
