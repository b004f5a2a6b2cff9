import Foundation

/// Reads ActiveJob's serialized arguments (`ActiveJob::Arguments.serialize`) as the plain JSON values a Swift
/// job receives, the way `ActiveJob::Arguments.deserialize` reads them in Ruby:
///
/// | ActiveJob writes | the Swift job gets |
/// |---|---|
/// | `nil`, strings, integers, floats, `true`/`false`, arrays | the same |
/// | a hash: `{"a":1,"_aj_symbol_keys":["a"]}`, `{…,"_aj_hash_with_indifferent_access":true}` | the object without the marker |
/// | keyword arguments: the last argument, `{"at":…,"_aj_ruby2_keywords":["at"]}` | named arguments (see ``split(_:job:)``) |
/// | a GlobalID: `{"_aj_globalid":"gid://shop/User/7"}` | the string `gid://shop/User/7` |
/// | `{"_aj_serialized":…}` | see ``ActiveJobSerializers`` |
///
/// Malformed forms throw ``JobDecodingError`` with reason `invalid-arguments`, naming the argument as a Ruby
/// path (`arguments[1]["tags"][0]`).
enum ActiveJobArguments {
    /// The keys ActiveJob reserves in serialized hashes.
    enum Key {
        static let globalID = "_aj_globalid"
        static let symbolKeys = "_aj_symbol_keys"
        static let ruby2Keywords = "_aj_ruby2_keywords"
        static let indifferentAccess = "_aj_hash_with_indifferent_access"
        static let serialized = "_aj_serialized"
    }

    /// The positional arguments, and the keyword arguments: ActiveJob marks the hash of `perform_later(x, at: t)`'s
    /// keywords with `_aj_ruby2_keywords`, always as the last argument.
    static func split(_ arguments: [Any], job: String) throws(JobDecodingError) -> (positional: [Any], keywords: [String: Any]) {
        var positional: [Any] = []
        var keywords: [String: Any] = [:]
        for (index, argument) in arguments.enumerated() {
            let path = "arguments[\(index)]"
            if let hash = argument as? [String: Any], hash[Key.ruby2Keywords] != nil {
                guard index == arguments.count - 1 else {
                    throw invalid(job, path, "is a keyword-arguments hash (_aj_ruby2_keywords) but is not the last argument")
                }
                keywords = try plainHash(hash, path: path, job: job)
            } else {
                positional.append(try value(argument, path: path, job: job))
            }
        }
        return (positional, keywords)
    }

    /// One argument, deserialized.
    static func value(_ argument: Any, path: String, job: String) throws(JobDecodingError) -> Any {
        switch argument {
        case let list as [Any]:
            var out: [Any] = []
            out.reserveCapacity(list.count)
            for (index, item) in list.enumerated() { out.append(try value(item, path: "\(path)[\(index)]", job: job)) }
            return out
        case let hash as [String: Any]:
            if let gid = hash[Key.globalID] {
                guard hash.count == 1, let text = gid as? String, text.hasPrefix("gid://") else {
                    throw invalid(job, path, "is not a GlobalID reference: expected {\"_aj_globalid\": \"gid://app/Model/id\"}, got \(describe(hash))")
                }
                return text
            }
            if hash[Key.serialized] != nil { return try ActiveJobSerializers.read(hash, path: path, job: job) }
            return try plainHash(hash, path: path, job: job)
        default:
            return argument  // null, string, number, true/false
        }
    }

    /// A hash without ActiveJob's markers, its values deserialized.
    static func plainHash(_ hash: [String: Any], path: String, job: String) throws(JobDecodingError) -> [String: Any] {
        for key in [Key.symbolKeys, Key.ruby2Keywords] {
            if let names = hash[key], !(names is [String]) {
                throw invalid(job, path, "has a malformed '\(key)' (expected a list of key names): \(describe(names))")
            }
        }
        if let flag = hash[Key.indifferentAccess], (flag as? NSNumber)?.isBoolean != true {
            throw invalid(job, path, "has a malformed '\(Key.indifferentAccess)' (expected true): \(describe(flag))")
        }
        var out: [String: Any] = [:]
        out.reserveCapacity(hash.count)
        for (key, item) in hash where key != Key.symbolKeys && key != Key.ruby2Keywords && key != Key.indifferentAccess {
            out[key] = try value(item, path: "\(path)[\"\(key)\"]", job: job)
        }
        return out
    }

    /// An `invalid-arguments` error about the argument at `path`.
    static func invalid(_ job: String, _ path: String, _ problem: String) -> JobDecodingError {
        JobDecodingError("ActiveJob \(job): \(path) \(problem)", reason: .invalidArguments)
    }

    /// A JSON value as text, for error messages.
    static func describe(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject([value]),
              let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "\(value)" }
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast().prefix(200))
    }
}
