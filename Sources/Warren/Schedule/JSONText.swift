import Yams

/// Writes a YAML node as compact JSON text, keeping mapping order.
enum JSONText {
    /// The node as JSON. Quoted scalars are strings; plain ones are resolved
    /// by YAML's rules (`null`, `true`, `12`, `1.5`, or a string).
    ///
    /// - Throws: `ScheduleError` (`.invalidArguments`) for a non-scalar mapping
    ///   key or a number JSON cannot hold (`.nan`, `.inf`), with its line.
    static func from(_ node: Node) throws(ScheduleError) -> String {
        switch node {
        case .mapping(let mapping):
            var members: [String] = []
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw ScheduleError(.invalidArguments, "argument keys must be scalars", line: key.mark?.line)
                }
                members.append(quoted(scalar.string) + ":" + (try from(value)))
            }
            return "{" + members.joined(separator: ",") + "}"
        case .sequence(let sequence):
            var elements: [String] = []
            for element in sequence {
                elements.append(try from(element))
            }
            return "[" + elements.joined(separator: ",") + "]"
        case .scalar(let scalar):
            guard scalar.style == .plain || scalar.style == .any else {
                return quoted(scalar.string)
            }
            switch node.tag.description {
            case Tag.Name.null.rawValue:
                return "null"
            case Tag.Name.bool.rawValue:
                return node.bool.map { $0 ? "true" : "false" } ?? quoted(scalar.string)
            case Tag.Name.int.rawValue:
                return node.int.map(String.init) ?? quoted(scalar.string)
            case Tag.Name.float.rawValue:
                guard let number = node.float, number.isFinite else {
                    throw ScheduleError(.invalidArguments, "\(scalar.string) is not a number JSON can hold",
                                        line: node.mark?.line)
                }
                return "\(number)"
            default:
                return quoted(scalar.string)
            }
        }
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
