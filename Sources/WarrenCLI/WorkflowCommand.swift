import ArgumentParser
import Foundation
import Logging
import Warren
import WarrenAMQP

/// `warren workflow start|graph|show`: starts a workflow from a file, draws one, shows one's state.
/// Parsing, validation and drawing are the library's (``WorkflowFile``, ``WorkflowGraph``).
struct WorkflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow", abstract: "Start, draw and inspect workflows (chains, sagas, groups, batches; docs/workflows.md).",
        subcommands: [Start.self, Graph.self, Show.self])

    /// Reads and validates a workflow or batch file; a bad file is a validation error naming its line.
    static func read(_ path: String) throws -> WorkflowFile.Definition {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
        do { return try WorkflowFile.read(text, file: path) } catch { throw ValidationError(error.description) }
    }

    /// Connects and declares the queues of a workflow's or batch's jobs; returns a producer.
    static func producer(queues: Set<String>, options: TopologyOptions) async throws -> (JobProducer, AMQPConnection) {
        try await BrokerEnvironment.producer(name: "warren-workflow", topology: try options.topology(queues: queues.sorted()),
                                             logger: Logger(label: "warren.workflow"))
    }

    static func printJSON(_ object: [String: Any]) throws {
        print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the workflow or batch a YAML/JSON file defines; prints its id once the broker has its first jobs (a batch needs WARREN_STORE).")

        @Argument(help: "Workflow file (YAML or JSON).")
        var file: String

        @Option(help: "Workflow id (overrides the file's; default the file's or a new UUID).")
        var id: String?

        @Flag(help: "Print {\"id\": ..., \"jobs\": [...]} as JSON.")
        var json = false

        @OptionGroup var topologyOptions: TopologyOptions

        func run() async throws {
            CLILogging.bootstrap()
            switch try WorkflowCommand.read(file) {
            case .workflow(var workflow):
                if let id { workflow.id = id }
                // A group followed by more steps is a batch: refused before touching the broker without a store.
                let store = workflow.needsStore
                    ? try await StoreEnvironment.require("a group followed by more steps (fan-in)", logger: Logger(label: "warren.workflow")) : nil
                let (producer, connection) = try await WorkflowCommand.producer(
                    queues: Set([workflow.queue] + workflow.steps.flatMap { $0.jobs.compactMap(\.queue) }), options: topologyOptions)
                defer { Task { await connection.close(); await store?.close() } }
                let first = try workflow.firstJobs().map(\.id)
                let started = try await producer.start(workflow, ledger: store?.batchLedger)
                if json { try WorkflowCommand.printJSON(["id": started, "jobs": first]) } else { print(started) }
            case .batch(var batch):
                if let id { batch.id = id }
                // Refused before touching the broker when no store is configured.
                let store = try await StoreEnvironment.require("a batch (fan-in)", logger: Logger(label: "warren.workflow"))
                let (producer, connection) = try await WorkflowCommand.producer(queues: batch.queues, options: topologyOptions)
                defer { Task { await connection.close(); await store.close() } }
                let started = try await producer.start(batch, ledger: store.batchLedger)
                if json {
                    try WorkflowCommand.printJSON(["id": started, "children": batch.children.count,
                                                   "callbacks": batch.callbacks.keys.map { FanIn.callbackID($0, of: started) }.sorted()])
                } else {
                    print(started)
                }
            }
        }
    }

    struct Graph: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Draw the workflow a file defines (Mermaid or Graphviz dot).")

        @Argument(help: "Workflow file (YAML or JSON).")
        var file: String

        @Option(help: "mermaid or dot.")
        var format: String = "mermaid"

        func run() throws {
            guard let f = WorkflowGraph.Format(rawValue: format) else { throw ValidationError("--format must be mermaid or dot") }
            switch try WorkflowCommand.read(file) {
            case .workflow(let workflow): print(WorkflowGraph.render(workflow, format: f), terminator: "")
            case .batch(let batch): print(WorkflowGraph.render(batch, format: f), terminator: "")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a started workflow's or batch's state, read from the job store (WARREN_STORE).",
            discussion: """
                A batch id shows the batch: sealed or not, children by outcome, each callback and whether it was enqueued, its \
                parent when nested, and its first 50 children. A workflow id shows its jobs, found by their ids (<id>.1, <id>.2, \
                <id>.2.1, <id>.undo-1, <id>.on-failure; steps not reached yet are not in the store), and the batches it runs.
                """)

        @Argument(help: "Workflow or batch id.")
        var id: String

        @Flag(help: "JSON output.")
        var json = false

        @Option(help: "Also draw it, coloured by state: mermaid or dot.")
        var graph: String?

        func run() async throws {
            CLILogging.bootstrap()
            let format = try graph.map { g in
                guard let f = WorkflowGraph.Format(rawValue: g) else { throw ValidationError("--graph must be mermaid or dot") }
                return f
            }
            // Chains and sagas carry their state in their messages: only a job store knows what ran.
            let store = try await StoreEnvironment.require("warren workflow show", logger: Logger(label: "warren.workflow"))
            var found: WorkflowView?
            var batch: BatchReport?
            var batches: [BatchView] = []
            do {
                // A batch first: its children's ids (B.1, B.2...) would read as a chain's steps.
                if store.batchCatalog != nil { batch = try await BatchReport.read(id, from: store) }
                if batch == nil {
                    found = try await WorkflowView.read(id, from: store)
                    batches = try await found?.batches(from: store) ?? []
                }
            } catch { await store.close(); throw error }
            await store.close()
            if let batch { return try BatchOutput.print(batch, graph: format, json: json) }
            guard let view = found else {
                throw ValidationError("no workflow or batch \(id) is in the job store \(store.location) (is the worker run with WARREN_STORE?)")
            }
            if let format {
                print(WorkflowGraph.render(view.workflow, format: format, states: view.graphStates), terminator: "")
            } else if json {
                let jobs = try view.jobs.map(BatchOutput.object)
                try WorkflowCommand.printJSON(["id": view.workflowID, "kind": view.workflow.kind.rawValue, "jobs": jobs,
                                               "batches": try batches.map(BatchOutput.object)])
            } else {
                print("workflow \(view.workflowID) (\(view.workflow.kind.rawValue))")
                for job in view.jobs {
                    let error = job.lastError.map { "  \($0.prefix(80))" } ?? ""
                    print("\(job.id)\t\(job.name ?? "?")\t\(job.state.rawValue)\tattempt \(job.attempt)\(error)")
                }
                for b in batches { BatchOutput.summary(b) }
            }
        }
    }
}
