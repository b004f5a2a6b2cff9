import Foundation
import WarrenAMQP

/// Export of dead-letter queues to JSON Lines (``DeadLetterRecord``), and import back, with confirms.
public struct DeadLetterArchive: Sendable {
    /// The connection to use.
    public let connection: AMQPConnection
    /// Messages per confirm batch on import. Default 500.
    public var batchSize: Int

    /// Creates an archive tool.
    public init(connection: AMQPConnection, batchSize: Int = 500) {
        self.connection = connection
        self.batchSize = max(1, batchSize)
    }

    /// Writes one line per selected message of `queue` (browsing: the queue is left as it was); returns how
    /// many were written.
    @discardableResult
    public func export(queue: String, filter: DeadLetterFilter = .all, limit: Int? = nil,
                       write: (_ line: [UInt8]) throws -> Void) async throws -> Int {
        var written = 0
        try await DeadLetterBrowser(connection: connection).browse(queue: queue, filter: filter, limit: limit) { letter in
            try write(try DeadLetterRecord(letter).jsonLine() + [UInt8(ascii: "\n")])
            written += 1
            return true
        }
        return written
    }

    /// Publishes records back, each to its own ``DeadLetterRecord/queue`` or to `destination`, through the
    /// default exchange (mandatory: a missing queue is an error, not a loss), with confirms. Returns how many
    /// the broker confirmed; the first failure stops the import with an error saying how far it got.
    @discardableResult
    public func importRecords(_ records: some Sequence<DeadLetterRecord>, destination: String? = nil,
                              progress: @Sendable (Int) -> Void = { _ in }) async throws -> Int {
        var iterator = records.makeIterator()
        return try await publish(next: { iterator.next() }, destination: destination, progress: progress)
    }

    /// Imports JSON Lines (an export file's lines); a line that is not a record stops the import, naming it.
    @discardableResult
    public func importLines(_ lines: some Sequence<[UInt8]>, destination: String? = nil,
                            progress: @Sendable (Int) -> Void = { _ in }) async throws -> Int {
        var iterator = lines.makeIterator()
        var number = 0
        return try await publish(next: { () throws(WarrenError) -> DeadLetterRecord? in
            guard let line = iterator.next() else { return nil }
            number += 1
            do { return try DeadLetterRecord.parse(line) } catch {
                throw WarrenError(.invalidInput, "line \(number): \((error as? WarrenError)?.message ?? "\(error)")")
            }
        }, destination: destination, progress: progress)
    }

    private func publish(next: () throws -> DeadLetterRecord?, destination: String?,
                         progress: @Sendable (Int) -> Void) async throws -> Int {
        let channel: AMQPChannel
        do { channel = try await connection.openChannel(confirmWindow: batchSize) } catch {
            throw WarrenError(error, "opening the import channel")
        }
        let publisher = ConfirmedPublisher(channel: channel, republishFor: .zero)  // no recovery: a loss is an error
        var imported = 0
        var batch: [OutgoingMessage] = []
        func flush() async throws(WarrenError) {
            let messages = batch
            let results = await publisher.publish(count: messages.count, describe: {
                (messages[$0].properties.messageID ?? "?", ConfirmedPublisher.queue(of: messages[$0]))
            }) { messages[$0] }
            for result in results {
                if case .failure(let error) = result {
                    throw WarrenError(error.code, "importing after \(imported) confirmed: \(error.message)", underlying: error.underlying)
                }
                imported += 1
            }
            batch.removeAll(keepingCapacity: true)
            progress(imported)
        }
        do {
            while let record = try next() {
                let queue = destination.map(DeadLetterQueues.deadLetterQueue(for:)) ?? record.queue
                batch.append(OutgoingMessage(exchange: "", routingKey: queue, mandatory: true,
                                             properties: record.properties.properties, body: try record.bodyBytes()))
                if batch.count >= batchSize { try await flush() }
            }
            if !batch.isEmpty { try await flush() }
        } catch {
            await channel.close()
            throw error
        }
        await channel.close()
        return imported
    }
}

/// Reads a file (or standard input) line by line, in chunks, so big exports need little memory.
public struct DeadLetterLineReader: Sequence, IteratorProtocol {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    /// Reads `path`, or standard input for `-`.
    public init(path: String) throws(WarrenError) {
        if path == "-" {
            handle = .standardInput
        } else {
            guard let h = FileHandle(forReadingAtPath: path) else { throw WarrenError(.invalidInput, "cannot read \(path)") }
            handle = h
        }
    }

    /// The next non-empty line, without its newline.
    public mutating func next() -> [UInt8]? {
        while true {
            if let nl = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[start..<nl])
                start = nl + 1
                if line.isEmpty { continue }
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            buffer.removeFirst(start)
            start = 0
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { atEnd = true } else { buffer += chunk }
        }
    }
}
