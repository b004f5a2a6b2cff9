import ArgumentParser

/// Placeholder, being built.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schedule", abstract: "(not yet available)")
    func run() async throws { throw ValidationError("warren schedule is not available yet") }
}
