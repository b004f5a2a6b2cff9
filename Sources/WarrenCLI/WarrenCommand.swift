import ArgumentParser

/// `warren`: run workers and schedulers, enqueue jobs, operate dead-letter queues.
///
/// The broker URL comes from the environment (`WARREN_URL`, or a file named by `WARREN_URL_FILE`), never
/// from the command line, so that passwords stay out of `ps` and shell history.
struct WarrenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warren",
        abstract: "Background jobs on RabbitMQ.",
        discussion: """
            Environment: WARREN_URL (default amqp://guest:guest@127.0.0.1:5672/%2F) or WARREN_URL_FILE,
            WARREN_MODE (classic|quorum), WARREN_MAX_PRIORITY, WARREN_STORE (sqlite:PATH or postgres://user@host:port/db) or WARREN_STORE_FILE, WARREN_LANES, WARREN_LOG_LEVEL, WARREN_LOG_FORMAT (text|json).
            """,
        subcommands: [
            WorkerCommand.self, EnqueueCommand.self, SchedulerCommand.self, ScheduleCommand.self,
            DLQCommand.self, StatusCommand.self, TopologyCommand.self, JobCommand.self, StoreCommand.self, OutboxCommand.self,
            DashboardCommand.self, WorkflowCommand.self,
        ]
    )
}
