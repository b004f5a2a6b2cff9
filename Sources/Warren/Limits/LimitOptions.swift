extension JobRegistry {
    /// Applies limits across workers written as `JOB=N` (``GlobalLimit``, e.g. `span=4`; `JOB.FIELD=N` limits
    /// per value of the argument FIELD) and `JOB=RATE` (``RateLimit``, e.g. `noop=200/s`, `mail=10/min:5`),
    /// as the CLI's `--global-limit` and `--rate-limit` take them. Throws for bad text or an unknown job.
    public mutating func applyLimits(global: [String], rate: [String]) throws(WarrenError) {
        for spec in global {
            let (target, value) = try Self.split(spec, "--global-limit")
            guard let n = Int(value), n >= 1 else { throw WarrenError(.invalidInput, "--global-limit \(spec): N must be a positive integer") }
            let (job, field) = self[target] != nil ? (target, nil) : Self.jobAndField(target)
            let limit = field.map { GlobalLimit.per($0, permits: n) } ?? GlobalLimit(permits: n)
            try self.limit(job, global: limit, rate: self[job]?.rateLimit)
        }
        for spec in rate {
            let (target, value) = try Self.split(spec, "--rate-limit")
            let (job, field) = self[target] != nil ? (target, nil) : Self.jobAndField(target)
            var limit = try RateLimit(parsing: value)
            limit.keyField = field
            try self.limit(job, global: self[job]?.globalLimit, rate: limit)
        }
    }

    private static func split(_ spec: String, _ option: String) throws(WarrenError) -> (String, String) {
        let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { throw WarrenError(.invalidInput, "\(option) \(spec): expected JOB=VALUE") }
        return (parts[0], parts[1])
    }

    /// `job.field` split at its last dot (a registered name containing dots is taken whole before this).
    private static func jobAndField(_ target: String) -> (String, String?) {
        guard let dot = target.lastIndex(of: ".") else { return (target, nil) }
        return (String(target[..<dot]), String(target[target.index(after: dot)...]))
    }
}
