import Foundation

/// Maps Celery's positional and keyword arguments onto one JSON object, the shape Warren jobs take,
/// the way Python binds arguments to parameters.
enum CeleryArguments {
    /// `args` named by `definition.positionalArguments` in order, merged with `kwargs`.
    static func object(args: [Any], kwargs: [String: Any], for definition: JobRegistry.Definition) throws(JobDecodingError) -> [UInt8] {
        let names = definition.positionalArguments
        guard args.count <= names.count else {
            let takes = names.isEmpty ? "no positional arguments" : "\(names.count) positional argument(s) (\(names.joined(separator: ", ")))"
            throw JobDecodingError("Celery task '\(definition.name)' takes \(takes) but was sent \(args.count): pass them as kwargs", reason: .invalidArguments)
        }
        var object = kwargs
        for (name, value) in zip(names, args) {
            guard object[name] == nil else {
                throw JobDecodingError("Celery task '\(definition.name)' got multiple values for argument '\(name)' (positional and keyword)", reason: .invalidArguments)
            }
            object[name] = value
        }
        do {
            return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
        } catch {
            throw JobDecodingError("Celery task '\(definition.name)': arguments cannot be written as JSON: \(error)")
        }
    }
}
