import Foundation
import WarrenAMQP

/// A typed job's arguments: `Codable` parameters and the name workers know the job by.
///
/// ```swift
/// struct SendEmail: JobParameters {
///     static let jobName = "send-email"
///     var to: String
///     var subject: String
/// }
/// ```
public protocol JobParameters: Codable, Sendable {
    /// The job's name on the wire (``WireFormat/Header/job``).
    static var jobName: String { get }
}
