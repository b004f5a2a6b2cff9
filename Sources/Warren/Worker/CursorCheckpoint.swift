import Synchronization
import WarrenAMQP

/// Where one attempt of an iterable job (``IterableJob``) is: the cursor it resumed from and the cursor of
/// the last item that succeeded since. The worker makes one per attempt and reads it when the attempt ends
/// (also when the attempt is given up at its time limit while its item still runs).
final class CursorCheckpoint: Sendable {
    /// The cursor the attempt resumes after (JSON, from ``WireFormat/Header/cursor``); `nil`: from the start.
    let start: [UInt8]?
    private let last = Mutex<[UInt8]?>(nil)

    /// A checkpoint resuming after `start`.
    init(start: [UInt8]?) { self.start = start }

    /// A checkpoint resuming where the message says.
    convenience init(headers: FieldTable) {
        self.init(start: HeaderValues.string(headers[WireFormat.Header.cursor]).map { Array($0.utf8) })
    }

    /// Records that the item at `cursor` succeeded.
    func record(_ cursor: [UInt8]) { last.withLock { $0 = cursor } }

    /// The cursor of the last item that succeeded in this attempt; `nil` if none did.
    var reached: [UInt8]? { last.withLock { $0 } }
}
