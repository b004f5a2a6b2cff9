import Foundation

/// Parses a duration written as a number of seconds (`1.5`) or a number with
/// a unit: `ms`, `s`, `m`, `h` or `d` (`250ms`, `10s`, `5m`, `2h`, `1d`,
/// `1.5s`). Shared by schedule files and command-line flags such as `--delay`.
///
/// - Returns: The duration.
/// - Throws: `ScheduleError` with code `.invalidDuration` for anything else,
///   including negative, infinite, empty and absurdly long (over 100 years) values.
public func parseDuration(_ text: String) throws(ScheduleError) -> Duration {
    try durationFromSeconds(parseSeconds(text), text)
}

/// `seconds` as a Duration, refused when negative, not finite or over 100 years.
func durationFromSeconds(_ seconds: Double, _ text: String) throws(ScheduleError) -> Duration {
    guard seconds >= 0, seconds.isFinite, seconds <= 100 * 365.25 * 86_400 else {
        throw ScheduleError(.invalidDuration, "\"\(text)\" is not a duration between 0 and 100 years")
    }
    return .seconds(seconds)
}

private func parseSeconds(_ text: String) throws(ScheduleError) -> Double {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    // "ms" must be tried before "m" and "s".
    let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
    let unit = units.first { trimmed.hasSuffix($0.suffix) }
    let number = trimmed.dropLast(unit?.suffix.count ?? 0)
    guard !number.isEmpty,
          number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
          let value = Double(number) else {
        throw ScheduleError(.invalidDuration,
                            "\"\(text)\" is not a duration (use seconds, or a number with ms, s, m, h or d, e.g. 250ms, 10s, 5m)")
    }
    return value * (unit?.seconds ?? 1)
}
