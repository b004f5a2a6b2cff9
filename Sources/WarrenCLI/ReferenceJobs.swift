import Foundation
import Warren

/// The built-in jobs `warren worker` runs: used by the demo, benchmarks and fault tests.
enum ReferenceJobs {
    struct Noop: JobParameters { static let jobName = "noop" }

    struct Sleep: JobParameters {
        static let jobName = "sleep"
        var ms: Int
    }

    struct Fail: JobParameters {
        static let jobName = "fail"
        var message: String
    }

    struct Flaky: JobParameters {
        static let jobName = "flaky"
        var failures: Int
    }

    struct Record: JobParameters {
        static let jobName = "record"
        var file: String
    }

    struct Span: JobParameters {
        static let jobName = "span"
        var file: String
        var ms: Int
    }

    struct ProgressJob: JobParameters {
        static let jobName = "progress"
        var steps: Int
        var ms: Int
    }

    struct ResultJob: JobParameters {
        static let jobName = "result"
        var value: JSONValue
    }

    struct Increment: JobParameters {
        static let jobName = "incr"
        var n: Int
        var file: String?
    }

    struct Add: JobParameters {
        static let jobName = "add"
        var x: Int
        var y: Int
        var ms: Int?
    }

    struct Sum: JobParameters {
        static let jobName = "tsum"
        var numbers: [Int]
        var file: String?
    }

    /// iterate {"file", "items", "ms"}: items 0..<items, each sleeps ms and appends "<id> <item> <attempt>"; resumable
    /// (cursor: the last item done), so an interrupted run repeats at most the item it was on.
    struct Iterate: IterableJob {
        static let jobName = "iterate"
        var file: String
        var items: Int
        var ms: Int

        func items(after cursor: Int?, context: JobContext) async throws -> IterableItems<[(cursor: Int, item: Int)]> {
            IterableItems(((cursor ?? -1) + 1 ..< max(items, (cursor ?? -1) + 1)).map { (cursor: $0, item: $0) })
        }

        func process(_ item: Int, context: JobContext) async throws {
            if ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
            try ReferenceJobs.appendLine("\(context.jobID) \(item) \(context.attempt)\n", to: file)
        }

        func fraction(at cursor: Int) -> Double? { items > 0 ? Double(cursor + 1) / Double(items) : 1 }
    }

    static func registry() -> JobRegistry {
        var r = JobRegistry()
        r.register(Noop.self) { _, _ in }
        r.register(Sleep.self, positionalArguments: ["ms"]) { args, _ in
            try await Task.sleep(for: .milliseconds(args.ms))
        }
        r.register(Fail.self, retry: RetryPolicy(maxAttempts: 3, backoff: .init(base: .milliseconds(200), cap: .seconds(2), jitter: 0.2)),
                   positionalArguments: ["message"]) { args, _ in
            throw JobFailure.retryable(args.message)
        }
        r.register(Flaky.self, retry: RetryPolicy(maxAttempts: 10, backoff: .init(base: .milliseconds(100), cap: .seconds(1), jitter: 0.2)),
                   positionalArguments: ["failures"]) { args, context in
            if context.attempt <= args.failures {
                throw JobFailure.retryable("flaky: attempt \(context.attempt) of \(args.failures) planned failures")
            }
        }
        r.register(Record.self, positionalArguments: ["file"]) { args, context in
            try appendLine("\(context.jobID) \(context.attempt)\n", to: args.file)
        }
        // span {"file", "ms"}: sleeps ms, appends "<id> <start_ms> <end_ms>" (Unix epoch milliseconds).
        r.register(Span.self) { args, context in
            let start = Int(Date().timeIntervalSince1970 * 1000)
            try await Task.sleep(for: .milliseconds(args.ms))
            try appendLine("\(context.jobID) \(start) \(Int(Date().timeIntervalSince1970 * 1000))\n", to: args.file)
        }
        // progress {"steps": N, "ms": M}: N steps of M ms, reporting progress after each.
        r.register(ProgressJob.self, positionalArguments: ["steps", "ms"]) { args, context in
            let steps = max(0, args.steps)
            for step in 0..<steps {
                try await Task.sleep(for: .milliseconds(max(0, args.ms)))
                await context.progress(Double(step + 1) / Double(steps), "step \(step + 1) of \(steps)")
            }
        }
        // result {"value": JSON}: returns the value as the job's result.
        r.register(ResultJob.self, positionalArguments: ["value"]) { args, _ in args.value }
        // incr {"n": N, "file": PATH?}: appends "<id> <n>" to PATH and returns n + 1 (for chains).
        r.register(Increment.self, positionalArguments: ["n", "file"]) { args, context -> Int in
            if let file = args.file { try appendLine("\(context.jobID) \(args.n)\n", to: file) }
            return args.n + 1
        }
        // add {"x", "y", "ms"?}: sleeps ms, returns x + y (a Celery chord's header task).
        r.register(Add.self, positionalArguments: ["x", "y"]) { args, _ -> Int in
            if let ms = args.ms, ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
            return args.x + args.y
        }
        // tsum {"numbers": [Int], "file": PATH?}: appends "<id> <sum> <numbers JSON>" to PATH and returns the sum (a chord's body).
        r.register(Sum.self, positionalArguments: ["numbers", "file"]) { args, context -> Int in
            let sum = args.numbers.reduce(0, +)
            if let file = args.file { try appendLine("\(context.jobID) \(sum) \(args.numbers.map(String.init).joined(separator: ","))\n", to: file) }
            return sum
        }
        r.register(iterable: Iterate.self)
        // echo {"file": PATH, ...}: appends "<id> <attempt> <traceparent or -> <arguments JSON>" to PATH.
        r.register(name: "echo", positionalArguments: ["file"]) { body, context in
            let file = (try? JSONDecoder().decode(Record.self, from: Data(body)))?.file
            guard let file else { throw JobFailure.permanent("echo needs a string argument 'file'") }
            let json = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            try appendLine("\(context.jobID) \(context.attempt) \(context.traceparent ?? "-") \(json)\n", to: file)
        }
        return r
    }

    /// Appends one line with a single O_APPEND write, so concurrent writers never interleave; the file stays
    /// open for the next line (``AppendFiles``).
    static func appendLine(_ line: String, to path: String) throws {
        try AppendFiles.shared.append(line, to: path)
    }
}
