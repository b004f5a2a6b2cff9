import ArgumentParser

/// Placeholder, being built.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dlq", abstract: "(not yet available)")
    func run() async throws { throw ValidationError("warren dlq is not available yet") }
}
