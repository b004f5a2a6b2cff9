import Foundation
import WarrenAMQP

/// The routing slip of a chain or saga: everything the next steps need travels in the message, in the
/// ``WorkflowHeader/itinerary`` header, so chains and sagas need no store (MassTransit Courier style).
///
/// A message carries the itinerary of the step it runs: the workflow's id and kind, which step this is,
/// the steps still to come, the job to run if the workflow fails, the previous step's result and (in a
/// saga) the log of compensations for the steps done so far.
public struct Itinerary: Sendable, Hashable, Codable {
    /// What the workflow is.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Steps one after another; a step that dies stops it and runs its on-failure job.
        case chain
        /// A chain whose steps have compensations, run in reverse when a step dies.
        case saga
        /// A saga's compensations, running in reverse order after a step died.
        case compensation
    }

    /// One done step of a saga and the job that undoes it.
    public struct LogEntry: Sendable, Hashable, Codable {
        /// The step's number (1-based).
        public var step: Int
        /// The compensation job.
        public var compensation: WorkflowJob
        /// The step's result (JSON text), handed to the compensation as its previous result.
        public var result: String?

        /// Creates an entry.
        public init(step: Int, compensation: WorkflowJob, result: String?) {
            self.step = step
            self.compensation = compensation
            self.result = result
        }
    }

    /// The workflow's id (the saga id for a saga and its compensations).
    public var workflowID: String
    /// Chain, saga or compensation.
    public var kind: Kind
    /// The step this message runs, 1-based (for a compensation: the step it undoes).
    public var step: Int
    /// How many steps the workflow has.
    public var steps: Int
    /// The steps still to come after this one (for a compensation: the compensations still to run).
    public var next: [WorkflowStep]
    /// The job run when the workflow fails for good (after the compensations, in a saga).
    public var onFailure: WorkflowJob?
    /// The previous step's result, JSON text (``WorkflowLimits/maxPreviousResultBytes`` at most).
    public var previousResult: String?
    /// In a saga: this step's compensation, logged once the step succeeds.
    public var compensation: WorkflowJob?
    /// In a saga: the compensations of the steps done, oldest first (kept in a compensation's dead letter).
    public var log: [LogEntry]
    /// Once a step died: which job and why (set on compensations and the on-failure job).
    public var failure: String?

    /// Creates an itinerary.
    public init(workflowID: String, kind: Kind, step: Int, steps: Int, next: [WorkflowStep], onFailure: WorkflowJob? = nil,
                previousResult: String? = nil, compensation: WorkflowJob? = nil, log: [LogEntry] = [], failure: String? = nil) {
        self.workflowID = workflowID
        self.kind = kind
        self.step = step
        self.steps = steps
        self.next = next
        self.onFailure = onFailure
        self.previousResult = previousResult
        self.compensation = compensation
        self.log = log
        self.failure = failure
    }

    enum CodingKeys: String, CodingKey {
        case workflowID = "id", kind, step, steps, next, onFailure = "on_failure", previousResult = "prev",
             compensation = "compensate", log, failure
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(workflowID: try c.decode(String.self, forKey: .workflowID), kind: try c.decode(Kind.self, forKey: .kind),
                  step: try c.decode(Int.self, forKey: .step), steps: try c.decode(Int.self, forKey: .steps),
                  next: try c.decodeIfPresent([WorkflowStep].self, forKey: .next) ?? [],
                  onFailure: try c.decodeIfPresent(WorkflowJob.self, forKey: .onFailure),
                  previousResult: try c.decodeIfPresent(String.self, forKey: .previousResult),
                  compensation: try c.decodeIfPresent(WorkflowJob.self, forKey: .compensation),
                  log: try c.decodeIfPresent([LogEntry].self, forKey: .log) ?? [],
                  failure: try c.decodeIfPresent(String.self, forKey: .failure))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workflowID, forKey: .workflowID)
        try c.encode(kind, forKey: .kind)
        try c.encode(step, forKey: .step)
        try c.encode(steps, forKey: .steps)
        if !next.isEmpty { try c.encode(next, forKey: .next) }
        try c.encodeIfPresent(onFailure, forKey: .onFailure)
        try c.encodeIfPresent(previousResult, forKey: .previousResult)
        try c.encodeIfPresent(compensation, forKey: .compensation)
        if !log.isEmpty { try c.encode(log, forKey: .log) }
        try c.encodeIfPresent(failure, forKey: .failure)
    }

    /// The header value carrying this itinerary (JSON text).
    public var headerValue: FieldValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        return .string(String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self))
    }

    /// Reads the itinerary header; throws ``ItineraryError`` naming what is wrong.
    public init(header value: FieldValue) throws(ItineraryError) {
        guard let text = value.stringValue else {
            throw ItineraryError("header '\(WorkflowHeader.itinerary)' must be a JSON string, not \(value)")
        }
        let itinerary: Itinerary
        do {
            itinerary = try JSONArguments.decodeJSON(Itinerary.self, from: Array(text.utf8))
        } catch let error as DecodingError {
            throw ItineraryError("header '\(WorkflowHeader.itinerary)' is not a valid itinerary: \(Self.describe(error))")
        } catch {
            throw ItineraryError("header '\(WorkflowHeader.itinerary)' is not a valid itinerary: \(error)")
        }
        guard !itinerary.workflowID.isEmpty else { throw ItineraryError("itinerary has an empty workflow id") }
        guard itinerary.step >= 1, itinerary.step <= itinerary.steps else {
            throw ItineraryError("itinerary step \(itinerary.step) is outside its \(itinerary.steps) steps")
        }
        if let bad = itinerary.next.first(where: { $0.jobs.isEmpty || $0.jobs.contains { $0.name.isEmpty } }) {
            throw ItineraryError("itinerary has a step without a job name: \(bad)")
        }
        if zip(itinerary.next, itinerary.next.dropFirst()).contains(where: { $0.isGroup && $1.isGroup }) {
            throw ItineraryError("itinerary has a group right after a group (the step after a group is a single job)")
        }
        self = itinerary
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let c) where c.codingPath.isEmpty: return "not JSON (\(c.debugDescription))"
        case .dataCorrupted(let c): return "invalid value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))' (\(c.debugDescription))"
        case .keyNotFound(let key, let c): return "missing '\((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c):
            return "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))' (\(c.debugDescription))"
        @unknown default: return "\(error)"
        }
    }
}

/// A malformed itinerary: the step is dead-lettered as `undecodable` with this message.
public struct ItineraryError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Headers of workflow messages.
public enum WorkflowHeader {
    /// The itinerary (routing slip) of a chain or saga step: JSON text, see ``Itinerary``.
    public static let itinerary = "warren-workflow"
    /// The workflow id, repeated in plain text so dead letters can be filtered by it.
    public static let workflowID = "warren-workflow-id"
    /// A Celery canvas (`chain`, `callbacks`, `errbacks`) read from a Celery message, as JSON text.
    public static let celeryCanvas = "warren-celery-canvas"
}

/// Size limits of what travels in workflow headers (a message's headers must fit in one AMQP frame,
/// 128 KiB with RabbitMQ's defaults).
public enum WorkflowLimits {
    /// Largest result handed to the next step. A bigger result fails the step permanently: store it
    /// elsewhere and pass a reference. 32 KiB.
    public static let maxPreviousResultBytes = 32 * 1024
    /// Largest itinerary. 96 KiB.
    public static let maxItineraryBytes = 96 * 1024
}
