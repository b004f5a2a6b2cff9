import WarrenAMQP

/// A job to enqueue in a batch: its name, JSON arguments and options.
public struct JobRequest: Sendable {
    /// Job name.
    public var name: String
    /// Arguments, JSON.
    public var arguments: [UInt8]
    /// Options.
    public var options: EnqueueOptions
    /// For a batch child: its batch, carried in the route (``BatchRoute``) or the `warren-batch` header.
    var batch: String?

    /// A request from raw JSON arguments.
    public init(name: String, arguments: [UInt8], options: EnqueueOptions = EnqueueOptions()) {
        self.name = name
        self.arguments = arguments
        self.options = options
    }

    /// A request for a typed job.
    public init<P: JobParameters>(_ parameters: P, options: EnqueueOptions = EnqueueOptions()) throws(WarrenError) {
        self.init(name: P.jobName, arguments: try JSONArguments.encode(parameters), options: options)
    }
}
