import ArgumentParser
import Foundation
import Warren

/// `warren dlq show ID`: one dead letter in full.
struct DLQShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a dead job in full: properties, headers, body, failure history.")

    @Argument(help: "Job id (message_id).")
    var id: String

    @OptionGroup var queues: DLQQueueOptions

    func run() async throws {
        let letters = try await DLQConnection.with("show") { connection in
            var letters: [DeadLetter] = []
            for info in try await queues.resolve(on: connection) {
                letters += try await DeadLetterBrowser(connection: connection).find(id: id, queue: info.name)
            }
            return letters
        }
        guard !letters.isEmpty else { throw DLQFailure("no dead job with id '\(id)' in the queues searched") }
        if letters.count > 1 { DLQOutput.note("\(letters.count) messages have id '\(id)' (duplicates); showing all") }
        for letter in letters {
            if queues.json { try DLQOutput.printJSON(encodable: DeadLetterRecord(letter)) } else { Self.render(letter) }
        }
    }

    static func render(_ l: DeadLetter) {
        let p = l.properties
        print("Job \(l.id)  (\(l.job.isEmpty ? "not a readable job" : l.job)) in \(l.deadLetterQueue), work queue \(l.workQueue)")
        print("Reason: \(l.reason ?? "-")   Attempts: \(l.attempts)   Failed at: \(DLQOutput.time(l.failedAt))")
        print("\nProperties:")
        let props: [(String, String?)] = [
            ("content_type", p.contentType), ("content_encoding", p.contentEncoding),
            ("delivery_mode", p.persistent.map { $0 ? "2 (persistent)" : "1 (transient)" }), ("priority", p.priority.map { "\($0)" }),
            ("correlation_id", p.correlationID), ("reply_to", p.replyTo), ("expiration", p.expiration), ("message_id", p.messageID),
            ("timestamp", p.timestamp.map { DLQOutput.time(Date(timeIntervalSince1970: Double($0))) }), ("type", p.type),
            ("user_id", p.userID), ("app_id", p.appID), ("cluster_id", p.clusterID),
            ("published to", "exchange '\(l.exchange)', routing key '\(l.routingKey)'"),
        ]
        DLQOutput.table(["  NAME", "VALUE"], props.compactMap { k, v in v.map { ["  \(k)", $0] } })
        print("\nHeaders:")
        DLQOutput.table(["  NAME", "VALUE"], l.headers.sorted { $0.key < $1.key }.map { key, value in
            ["  \(key)", DeadLetterText.header(key, value)]
        })
        print("\nBody:")
        print(DLQOutput.body(l.body))
        print("\nFailure history (oldest first):")
        let history = l.failure?.history ?? []
        if history.isEmpty { return print("  (none recorded)") }
        DLQOutput.table(["  ATTEMPT", "AT", "HOST", "ERROR"], history.map {
            ["  \($0.attempt)", DLQOutput.time($0.at), $0.host, "\($0.type): \($0.message)"]
        })
    }
}
