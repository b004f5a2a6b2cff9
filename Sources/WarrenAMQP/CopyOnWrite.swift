/// A value kept in one heap box that copies share until one of them writes: the writer then gets a box of
/// its own, unless it held the only reference. A struct of many reference fields (strings, header tables)
/// that keeps its fields this way is copied by one retain and destroyed by one release, instead of one per
/// field. Used by what passes through several hands per delivered job: ``BasicProperties``, and in Warren
/// the job envelope, the registry's job definition and the job context (value-witness copies and destroys
/// of such structs were 16.1% of a CLI worker's samples in a profile, 7.2% with the boxes). Not for a type
/// whose fields another module reads one by one on a hot path: there each read is an accessor call (the
/// store's `JobUpdate`, tried and measured slower).
///
/// Thread safety: a box is written only through a `CopyOnWrite` that holds its only reference, so no other
/// thread can be reading it; hence `@unchecked Sendable` for a `Sendable` value.
package struct CopyOnWrite<Value: Sendable>: @unchecked Sendable {
    @usableFromInline
    final class Box {
        /// Not checked for exclusive access at run time (`swift_beginAccess` on every read was about 2% of a
        /// CLI worker's samples): it is written only through ``value``'s `_modify`, on a box no other copy
        /// shares, so no access can overlap a write.
        @exclusivity(unchecked) @usableFromInline var value: Value
        @usableFromInline init(_ value: Value) { self.value = value }
    }

    @usableFromInline var box: Box

    @inlinable package init(_ value: Value) { box = Box(value) }

    /// The value; reading a field of it copies that field only.
    @inlinable package var value: Value {
        _read { yield box.value }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.value) }
            yield &box.value
        }
    }

    /// Whether two copies share one box (so their values are equal without comparing them).
    @inlinable package func sharesBox(with other: CopyOnWrite) -> Bool { box === other.box }
}
