import ArgumentParser

/// Placeholder, being built.
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scheduler", abstract: "(not yet available)")
    func run() async throws { throw ValidationError("warren scheduler is not available yet") }
}
