import Foundation
import WarrenAMQP

/// JSON encoding and decoding of job arguments, in one place.
public enum JSONArguments {
    /// Encodes arguments (sorted keys, so equal arguments give equal bytes).
    public static func encode<P: Encodable>(_ value: P) throws(WarrenError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(value)) } catch {
            throw WarrenError(.invalidArguments, "cannot encode arguments as JSON: \(error)")
        }
    }

    /// True for an empty body or exactly `{}`: arguments that need no parsing.
    static func isEmptyObject(_ body: [UInt8]) -> Bool {
        body.isEmpty || (body.count == 2 && body[0] == UInt8(ascii: "{") && body[1] == UInt8(ascii: "}"))
    }

    /// One decoder for every job: decoding is thread-safe, and making one per job costs more than a short job.
    private static let decoder = JSONDecoder()

    /// Decodes arguments; an empty body reads as `{}`. Errors name the failing field path.
    ///
    /// ``NodeDecoder`` reads the body first (from its own bytes, no copy); a body it refuses, for any reason,
    /// is decoded again by Foundation's `JSONDecoder`, whose value or error stands. So bad input gets the
    /// messages it always had, and only bodies that decode pay for one decoder. `warren-bench decode`
    /// measures the ways at hand.
    public static func decode<P: Decodable>(_ type: P.Type, from body: [UInt8]) throws(ArgumentsError) -> P {
        do {
            return try decodeJSON(type, from: body)
        } catch let error as DecodingError {
            throw ArgumentsError(error)
        } catch {
            throw ArgumentsError(reason: .invalidArguments, message: "\(error)")
        }
    }
}

/// Arguments that do not decode: either not JSON at all (`undecodable`) or the wrong shape (`invalidArguments`).
public struct ArgumentsError: Error, Sendable, CustomStringConvertible {
    /// The dead-letter reason this maps to.
    public var reason: DeadLetterReason
    /// What is wrong, naming the field.
    public var message: String

    init(reason: DeadLetterReason, message: String) {
        self.reason = reason
        self.message = message
    }

    init(_ error: DecodingError) {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "arguments" : "arguments\(p)"
        }
        switch error {
        case .typeMismatch(let type, let c):
            self.init(reason: .invalidArguments, message: "\(path(c)): expected \(type), \(c.debugDescription)")
        case .valueNotFound(let type, let c):
            self.init(reason: .invalidArguments, message: "\(path(c)): expected \(type) but found null")
        case .keyNotFound(let key, let c):
            let p = path(c)
            self.init(reason: .invalidArguments, message: "\(p == "arguments" ? "" : "\(p): ")missing required argument '\(key.stringValue)'")
        case .dataCorrupted(let c) where c.codingPath.isEmpty:
            self.init(reason: .undecodable, message: "body is not valid JSON: \(c.underlyingError.map { "\($0)" } ?? c.debugDescription)")
        case .dataCorrupted(let c):
            self.init(reason: .invalidArguments, message: "\(path(c)): \(c.debugDescription)")
        @unknown default:
            self.init(reason: .invalidArguments, message: "\(error)")
        }
    }

    public var description: String { message }
}

extension JSONArguments {
    /// `body` decoded by ``NodeDecoder``, or, when it refuses, by `JSONDecoder`, whose value or error stands
    /// (an empty body reads as `{}`). For any JSON Warren reads per job (arguments, itineraries).
    static func decodeJSON<P: Decodable>(_ type: P.Type, from body: [UInt8]) throws -> P {
        if let fast = try? fastDecode(type, from: body) { return fast }
        if body.isEmpty { return try decoder.decode(type, from: Data("{}".utf8)) }
        return try body.withUnsafeBytes { raw in
            try decoder.decode(type, from: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress!),
                                                count: raw.count, deallocator: .none))
        }
    }

    /// ``NodeDecoder`` alone, no fallback (what ``decode(_:from:)`` tries first; tests compare it with
    /// `JSONDecoder`).
    static func fastDecode<P: Decodable>(_ type: P.Type, from body: [UInt8]) throws -> P {
        try NodeDecoder.decode(type, from: try JSONTape.parse(body), 0, at: nil)
    }
}
