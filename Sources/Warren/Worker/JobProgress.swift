/// Receives the progress a running job reports with ``JobContext/progress(_:_:)``; a job store sets one
/// on the context (through its middleware) to record it. Throttling is the reporter's business: jobs may
/// report as often as they like.
public protocol JobProgressReporter: Sendable {
    /// Job `jobID` is `fraction` (0...1) done; `message` says where it is.
    func report(jobID: String, fraction: Double, message: String?) async
}

extension JobContext {
    /// Reports how far the job is, `fraction` from 0 to 1 (clamped), with an optional message. Recorded by
    /// the worker's job store when one is configured; without one it is only logged at debug level.
    public func progress(_ fraction: Double, _ message: String? = nil) async {
        let f = fraction.isNaN ? 0 : min(max(fraction, 0), 1)
        if let progressReporter {
            await progressReporter.report(jobID: jobID, fraction: f, message: message)
        } else {
            logger.debug("progress", metadata: ["fraction": "\(f)", "message": "\(message ?? "")"])
        }
    }
}
