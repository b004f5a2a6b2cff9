import Foundation
import WarrenAMQP

/// The jobs a worker can run: name -> handler, each with its retry policy, timeout and concurrency limit.
public struct JobRegistry: Sendable {
    /// One registered job.
    public struct Definition: Sendable {
        /// The fields, boxed (``CopyOnWrite``): a delivery's definition is looked up and carried through the
        /// attempt, its closures and its settlement; a copy is one retain instead of one per field.
        private var storage: CopyOnWrite<Fields>

        struct Fields: Sendable {
            let name: String
            let retry: RetryPolicy?
            let timeout: Duration?
            let positionalArguments: [String]
            let maxConcurrent: Int?
            var globalLimit: GlobalLimit? = nil
            var rateLimit: RateLimit? = nil
            var isIterable = false
            let run: nonisolated(nonsending) @Sendable (_ body: [UInt8], _ context: JobContext) async throws -> JobResult
        }

        init(name: String, retry: RetryPolicy?, timeout: Duration?, positionalArguments: [String], maxConcurrent: Int?,
             run: nonisolated(nonsending) @escaping @Sendable (_ body: [UInt8], _ context: JobContext) async throws -> JobResult) {
            storage = CopyOnWrite(Fields(name: name, retry: retry, timeout: timeout, positionalArguments: positionalArguments,
                                         maxConcurrent: maxConcurrent, run: run))
        }

        /// Job name.
        public var name: String { storage.value.name }
        /// Retry policy (``WorkerConfiguration/defaultRetry`` when registered without one).
        public var retry: RetryPolicy? { storage.value.retry }
        /// Time limit per attempt (``WorkerConfiguration/defaultTimeout`` when `nil`).
        public var timeout: Duration? { storage.value.timeout }
        /// Names of the arguments in order, for producers that send positional arguments (Celery).
        public var positionalArguments: [String] { storage.value.positionalArguments }
        /// Most attempts of this job running at once in one worker, or `nil` for no limit beyond the
        /// worker's concurrency (see ``register(_:retry:timeout:maxConcurrent:positionalArguments:handler:)``).
        public var maxConcurrent: Int? { storage.value.maxConcurrent }
        /// Most attempts running at once across all workers (see ``JobRegistry/limit(_:global:rate:)``).
        public internal(set) var globalLimit: GlobalLimit? {
            get { storage.value.globalLimit }
            set { storage.value.globalLimit = newValue }
        }
        /// Most attempts started per time unit across all workers (see ``JobRegistry/limit(_:global:rate:)``).
        public internal(set) var rateLimit: RateLimit? {
            get { storage.value.rateLimit }
            set { storage.value.rateLimit = newValue }
        }
        /// Registered as an ``IterableJob``: its attempts checkpoint a cursor and may be interrupted.
        public internal(set) var isIterable: Bool {
            get { storage.value.isIterable }
            set { storage.value.isIterable = newValue }
        }
        /// Decodes the arguments, runs the handler and encodes its result.
        var run: nonisolated(nonsending) @Sendable (_ body: [UInt8], _ context: JobContext) async throws -> JobResult { storage.value.run }
    }

    /// Kept with ``names`` in step: every delivery consults the names (for its unknown-job message), so
    /// they are sorted once per registration, not once per job.
    var definitions: [String: Definition] = [:] {
        didSet { names = definitions.keys.sorted() }
    }

    /// An empty registry.
    public init() {}

    /// Registers a typed job. Its arguments are decoded strictly from the JSON body: a missing or wrongly
    /// typed argument dead-letters the job with reason `invalid-arguments` naming the field.
    ///
    /// The handler runs in its caller's isolation (`nonisolated(nonsending)`): the worker's runner task, which
    /// is on no actor, so a job is not moved to another executor on its way in and out (two hops per job).
    /// A handler that must run elsewhere hops there itself, or is an `@concurrent` function.
    ///
    /// - Parameter maxConcurrent: most attempts of this job running at once in one worker (each worker
    ///   process counts its own). A delivery over the limit waits in its runner, unacked and in order, for a
    ///   place (its time limit starts once it has one): give a tightly limited job a queue of its own when
    ///   other jobs must not wait behind it.
    public mutating func register<P: JobParameters>(
        _ type: P.Type, retry: RetryPolicy? = nil, timeout: Duration? = nil, maxConcurrent: Int? = nil,
        positionalArguments: [String] = [],
        handler: nonisolated(nonsending) @escaping @Sendable (P, JobContext) async throws -> Void
    ) {
        register(type, retry: retry, timeout: timeout, maxConcurrent: maxConcurrent,
                 positionalArguments: positionalArguments) { (parameters: P, context: JobContext) -> JobResult in
            try await handler(parameters, context)
            return .none
        }
    }

    /// Registers a typed job that returns a result: the result is encoded as JSON and handed to the
    /// worker's middlewares (a job store keeps it; see ``JobResult``). Otherwise as
    /// ``register(_:retry:timeout:maxConcurrent:positionalArguments:handler:)``.
    public mutating func register<P: JobParameters, R: Encodable & Sendable>(
        _ type: P.Type, retry: RetryPolicy? = nil, timeout: Duration? = nil, maxConcurrent: Int? = nil,
        positionalArguments: [String] = [],
        handler: nonisolated(nonsending) @escaping @Sendable (P, JobContext) async throws -> R
    ) {
        register(type, retry: retry, timeout: timeout, maxConcurrent: maxConcurrent,
                 positionalArguments: positionalArguments) { (parameters: P, context: JobContext) -> JobResult in
            let result = try await handler(parameters, context)
            do throws(WarrenError) {
                return JobResult(json: try JSONArguments.encode(result))
            } catch {
                throw JobFailure.permanent("the job's result does not encode as JSON: \(error.message)")
            }
        }
    }

    private mutating func register<P: JobParameters>(
        _ type: P.Type, retry: RetryPolicy?, timeout: Duration?, maxConcurrent: Int?, positionalArguments: [String],
        run: nonisolated(nonsending) @escaping @Sendable (P, JobContext) async throws -> JobResult
    ) {
        // Jobs without arguments are common (`{}` or an empty body): decode that once, not per job.
        let decodedEmpty = try? JSONArguments.decode(P.self, from: [])
        definitions[P.jobName] = Definition(name: P.jobName, retry: retry, timeout: timeout,
                                            positionalArguments: positionalArguments,
                                            maxConcurrent: maxConcurrent.map { max(1, $0) }) { body, context in
            let parameters: P
            if let decodedEmpty, JSONArguments.isEmptyObject(body) {
                parameters = decodedEmpty
            } else {
                parameters = try JSONArguments.decode(P.self, from: body)
            }
            return try await run(parameters, context)
        }
    }

    /// Registers a job that takes its JSON body as bytes (it must still be valid JSON). `maxConcurrent` as
    /// for typed jobs.
    public mutating func register(
        name: String, retry: RetryPolicy? = nil, timeout: Duration? = nil, maxConcurrent: Int? = nil,
        positionalArguments: [String] = [],
        handler: nonisolated(nonsending) @escaping @Sendable ([UInt8], JobContext) async throws -> Void
    ) {
        definitions[name] = Definition(name: name, retry: retry, timeout: timeout,
                                       positionalArguments: positionalArguments,
                                       maxConcurrent: maxConcurrent.map { max(1, $0) }) { body, context in
            if !JSONArguments.isEmptyObject(body), (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) == nil {
                throw ArgumentsError(reason: .undecodable, message: "body is not valid JSON")
            }
            try await handler(body, context)
            return .none
        }
    }

    /// Sets the limits across workers of the job registered as `name` (call it after registering): at most
    /// `global.permits` running at once (``GlobalLimit``), at most `rate` started per time unit (``RateLimit``).
    /// `nil` removes a limit. Throws for a name that is not registered.
    public mutating func limit(_ name: String, global: GlobalLimit?, rate: RateLimit? = nil) throws(WarrenError) {
        guard definitions[name] != nil else {
            throw WarrenError(.invalidInput, "cannot limit '\(name)': no job of that name is registered (known: \(names.joined(separator: ", ")))")
        }
        definitions[name]?.globalLimit = global
        definitions[name]?.rateLimit = rate
    }

    /// The job registered under `name`.
    public subscript(name: String) -> Definition? { definitions[name] }

    /// Registered names, sorted.
    public private(set) var names: [String] = []
}
