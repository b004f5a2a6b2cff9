import Foundation

/// A position in the order of ``JobStore/list(_:)`` (most recently changed first, then by id): the last job
/// of one page, from which the next page continues (``JobQuery/after``). Its text form `MILLIS:ID` travels
/// in links and the JSON API.
public struct JobCursor: Sendable, Hashable {
    /// The job's last change, in milliseconds since 1970 (the stores' precision).
    public var updatedMillis: Int64
    /// The job's id.
    public var id: String

    /// The cursor after `job` (`nil` when the store recorded no change time).
    public init?(after job: JobStatus) {
        guard let at = job.updatedAt else { return nil }
        self.updatedMillis = Int64((at.timeIntervalSince1970 * 1000).rounded())
        self.id = job.id
    }

    /// Parses `MILLIS:ID`; `nil` when malformed.
    public init?(text: String) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let millis = Int64(parts[0]), !parts[1].isEmpty else { return nil }
        self.updatedMillis = millis
        self.id = String(parts[1])
    }

    /// `MILLIS:ID`.
    public var text: String { "\(updatedMillis):\(id)" }
}

/// One page of ``JobStore/list(_:)``: the jobs and where the next page starts.
public struct JobPage: Sendable, Hashable {
    /// The jobs, most recently changed first.
    public var jobs: [JobStatus]
    /// The cursor of the next page; `nil` on the last page.
    public var next: JobCursor?

    /// Reads the page of `query` (at most `query.limit` jobs; one more is asked for to know whether a next
    /// page exists).
    public static func read(_ query: JobQuery, from store: any JobStore) async throws(StoreError) -> JobPage {
        var probe = query
        probe.limit = query.limit + 1
        let found = try await store.list(probe)
        let jobs = Array(found.prefix(query.limit))
        return JobPage(jobs: jobs, next: found.count > query.limit ? jobs.last.flatMap(JobCursor.init(after:)) : nil)
    }
}
