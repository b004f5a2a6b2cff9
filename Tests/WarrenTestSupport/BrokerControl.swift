import Foundation
import WarrenMetrics
import XCTest

/// Helpers both test targets use against the real broker: `rabbitmqctl` and bounded polling (and
/// ``collect(_:count:timeout:ack:file:line:)`` for deliveries).
public enum BrokerControl {
    /// Runs `rabbitmqctl` through the project's wrapper (`WARREN_RABBITMQCTL`, default
    /// `deploy/rabbitmq-local.sh ctl`) with the product's runner (``RabbitMQCtl``); returns its standard
    /// output, throws with its standard error when it fails.
    @discardableResult
    public static func rabbitmqctl(_ args: [String]) throws -> String {
        let wrapper = ProcessInfo.processInfo.environment["WARREN_RABBITMQCTL"]
            ?? "\(FileManager.default.currentDirectoryPath)/deploy/rabbitmq-local.sh ctl"
        let ctl = RabbitMQCtl(command: wrapper.split(separator: " ").map(String.init))
        return String(decoding: try ctl.run(args), as: UTF8.self)
    }

    /// Polls `condition` every 50 ms for up to `timeout` seconds; fails the test if it never holds.
    public static func poll(timeout: Double, file: StaticString, line: UInt,
                            _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("condition not met within \(timeout) s", file: file, line: line)
    }
}
