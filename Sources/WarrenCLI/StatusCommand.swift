import ArgumentParser

/// Placeholder, being built.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "(not yet available)")
    func run() async throws { throw ValidationError("warren status is not available yet") }
}
