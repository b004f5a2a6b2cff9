import ArgumentParser

/// Placeholder, being built.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topology", abstract: "(not yet available)")
    func run() async throws { throw ValidationError("warren topology is not available yet") }
}
