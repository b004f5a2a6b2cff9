import Foundation

/// Binds the positional and keyword arguments of a foreign producer (Celery, ActiveJob) onto one JSON object,
/// the shape Warren jobs take, the way Python and Ruby bind arguments to parameters: positional values take the
/// names of ``JobRegistry/Definition/positionalArguments`` in order, keywords keep theirs.
enum PositionalArguments {
    /// How a producer's errors read.
    struct Wording {
        /// What is called, e.g. "Celery task 'add'".
        var subject: String
        /// What to do about surplus positional arguments, e.g. "pass them as kwargs".
        var surplusHint: String
    }

    /// `positional` named by `definition.positionalArguments` in order, merged with `keywords`.
    static func object(positional: [Any], keywords: [String: Any], for definition: JobRegistry.Definition,
                       wording: Wording) throws(JobDecodingError) -> [UInt8] {
        let names = definition.positionalArguments
        guard positional.count <= names.count else {
            let takes = names.isEmpty ? "no positional arguments" : "\(names.count) positional argument(s) (\(names.joined(separator: ", ")))"
            throw JobDecodingError("\(wording.subject) takes \(takes) but was sent \(positional.count): \(wording.surplusHint)",
                                   reason: .invalidArguments)
        }
        var object = keywords
        for (name, value) in zip(names, positional) {
            guard object[name] == nil else {
                throw JobDecodingError("\(wording.subject) got multiple values for argument '\(name)' (positional and keyword)",
                                       reason: .invalidArguments)
            }
            object[name] = value
        }
        do {
            return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
        } catch {
            throw JobDecodingError("\(wording.subject): arguments cannot be written as JSON: \(error)")
        }
    }
}
