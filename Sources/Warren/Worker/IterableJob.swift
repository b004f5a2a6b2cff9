import WarrenAMQP

/// A job that works through items one at a time and can resume where it stopped: it builds its items from a
/// cursor (``items(after:context:)``) and processes one item at a time (``process(_:context:)``).
///
/// Register it with ``JobRegistry/register(iterable:retry:timeout:maxConcurrent:)``. The worker then:
/// - checkpoints the cursor after each item succeeds (never before: an item that failed or was cut short is
///   processed again, not skipped);
/// - on a failure, carries the last checkpoint into the retry (or dead letter): the next attempt resumes
///   there instead of starting over;
/// - when the job is interrupted, at its time limit or at the end of a shutdown grace period, republishes it
///   with its cursor in ``WireFormat/Header/cursor`` and the same attempt number (confirmed, then acked): the
///   next worker resumes after the cursor, and the interruption is not a failed attempt. An attempt that
///   finished no item counts as before (a timeout is a failure, a shutdown leaves it to the broker), so a
///   job that never advances still runs out of attempts;
/// - reports progress (``JobContext/progress(_:_:)``, with ``fraction(at:)``) after each item when a job
///   store is configured.
///
/// At least once per item: an item interrupted mid-way (or whose checkpoint was lost with a killed worker)
/// runs again, so make ``process(_:context:)`` idempotent. Between items the job stops as soon as it is
/// cancelled; within an item, long work should check ``JobContext/isCancelled``.
public protocol IterableJob: JobParameters {
    /// Where the job is: the position of an item, encoded as JSON in the message when the job is interrupted.
    associatedtype Cursor: Codable & Sendable
    /// One unit of work.
    associatedtype Item
    /// The items after a cursor, each with its own cursor.
    associatedtype Items: AsyncSequence where Items.Element == (cursor: Cursor, item: Item)

    /// The items after `cursor` (all of them when `cursor` is `nil`), in order, each paired with the cursor
    /// that resumes after it. Use ``IterableItems`` for items already in memory.
    func items(after cursor: Cursor?, context: JobContext) async throws -> Items

    /// Processes one item. A thrown error fails the attempt (retried by the job's policy, resuming after the
    /// last item that succeeded).
    func process(_ item: Item, context: JobContext) async throws

    /// How far the job is once the item at `cursor` is done, 0...1, for progress; `nil` if unknown (default).
    func fraction(at cursor: Cursor) -> Double?
}

extension IterableJob {
    /// Default: progress unknown (reported as 0 with the cursor as its message).
    public func fraction(at cursor: Cursor) -> Double? { nil }
}

/// Items already in memory (or any lazy `Sequence`) as an ``IterableJob``'s `Items`.
public struct IterableItems<Base: Sequence>: AsyncSequence {
    /// The items with their cursors.
    public typealias Element = Base.Element
    private let base: Base

    /// Wraps `base`.
    public init(_ base: Base) { self.base = base }

    /// Iterates `base`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var iterator: Base.Iterator
        /// The next element of the base sequence.
        public mutating func next() async -> Base.Element? { iterator.next() }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(iterator: base.makeIterator()) }
}

extension JobRegistry {
    /// Registers an iterable job (see ``IterableJob``): its arguments decode as for
    /// ``register(_:retry:timeout:maxConcurrent:positionalArguments:handler:)``, the cursor it resumes from
    /// comes from ``WireFormat/Header/cursor`` (one that does not decode as `J.Cursor` dead-letters the job
    /// as `invalid-arguments`). `timeout` bounds one attempt, not the whole job: at the limit the job is
    /// interrupted and resumes in a new delivery.
    public mutating func register<J: IterableJob>(iterable type: J.Type, retry: RetryPolicy? = nil, timeout: Duration? = nil,
                                                  maxConcurrent: Int? = nil) {
        register(type, retry: retry, timeout: timeout, maxConcurrent: maxConcurrent) { (job: J, context: JobContext) in
            try await Iteration.run(job, context)
        }
        definitions[J.jobName]?.isIterable = true
    }
}

/// The worker's loop over an iterable job's items.
enum Iteration {
    static func run<J: IterableJob>(_ job: J, _ context: JobContext) async throws {
        let checkpoint = context.checkpoint ?? CursorCheckpoint(start: nil)
        var start: J.Cursor?
        if let bytes = checkpoint.start {
            do throws(ArgumentsError) {
                start = try JSONArguments.decode(J.Cursor.self, from: bytes)
            } catch {
                throw ArgumentsError(reason: .invalidArguments, message: "\(WireFormat.Header.cursor) '\(String(decoding: bytes, as: UTF8.self))': \(error.message)")
            }
        }
        for try await (cursor, item) in try await job.items(after: start, context: context) {
            try Task.checkCancellation()  // interrupted: no new item
            try await job.process(item, context: context)
            let encoded: [UInt8]
            do throws(WarrenError) {
                encoded = try JSONArguments.encode(cursor)
            } catch {
                throw JobFailure.permanent("the job's cursor does not encode as JSON: \(error.message)")
            }
            checkpoint.record(encoded)  // only now that the item succeeded
            if context.progressReporter != nil {
                await context.progress(job.fraction(at: cursor) ?? 0, "cursor \(String(decoding: encoded, as: UTF8.self))")
            }
        }
    }
}
