/// Which Swift job runs an ActiveJob class. Tried in order, the first registered name wins:
///
/// 1. the explicit mapping given to the format (``ActiveJobFormat/jobNames``), e.g. `["ImageJob": "resize-image"]`;
/// 2. the class name itself: a Swift job registered as `RecordJob`;
/// 3. the conventional name (``conventionalName(of:)``): `RecordJob` → `record`,
///    `Billing::SendInvoiceJob` → `billing.send-invoice`.
///
/// A class mapped explicitly runs only under its mapped name.
public struct ActiveJobClassNames: Sendable, Hashable {
    /// Explicit mapping, Ruby class name → Swift job name.
    public var explicit: [String: String]

    /// Creates a mapping; classes not in `explicit` go by their own or their conventional name.
    public init(_ explicit: [String: String] = [:]) {
        self.explicit = explicit
    }

    /// The names a class may run under, in the order they are tried.
    public func candidates(for className: String) -> [String] {
        if let mapped = explicit[className] { return [mapped] }
        let conventional = Self.conventionalName(of: className)
        return conventional == className ? [className] : [className, conventional]
    }

    /// The registered job for `className`, or `nil` when none of its ``candidates(for:)`` is registered.
    public func job(for className: String, in registry: JobRegistry) -> String? {
        candidates(for: className).first { registry[$0] != nil }
    }

    /// Rails' `underscore` with hyphens, `::` as `.`, and the `Job` suffix dropped: `RecordJob` → `record`,
    /// `SendHTMLEmailJob` → `send-html-email`, `Billing::SendInvoiceJob` → `billing.send-invoice`.
    public static func conventionalName(of className: String) -> String {
        var segments = className.split(separator: "::", omittingEmptySubsequences: true).map(String.init)
        guard let last = segments.last else { return className }
        if last.hasSuffix("Job"), last.count > 3 { segments[segments.count - 1] = String(last.dropLast(3)) }
        return segments.map(kebab).joined(separator: ".")
    }

    /// `SendHTMLEmail` → `send-html-email` (a hyphen before an upper-case letter that follows a lower-case
    /// letter or digit, and before the last capital of an acronym followed by lower case).
    static func kebab(_ segment: String) -> String {
        let chars = Array(segment)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase, i > 0 {
                let previous = chars[i - 1]
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) { out.append("-") }
            }
            out.append(c == "_" ? "-" : Character(c.lowercased()))
        }
        return out
    }
}
