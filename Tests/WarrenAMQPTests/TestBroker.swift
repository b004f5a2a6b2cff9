import Foundation
import WarrenAMQP
import WarrenTestSupport
import XCTest

/// The real broker the tests talk to (started by scripts/test.sh), and helpers for unique, cleaned-up names.
enum TestBroker {
    static var url: String { ProcessInfo.processInfo.environment["WARREN_TEST_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F" }
    static var tlsURL: String { ProcessInfo.processInfo.environment["WARREN_TEST_TLS_URL"] ?? "amqps://guest:guest@localhost:5671/%2F" }
    static var tlsDir: String { ProcessInfo.processInfo.environment["WARREN_TEST_TLS_DIR"] ?? "/tmp/warren-rabbitmq/tls" }

    static func configuration() throws -> AMQPConfiguration {
        var c = try AMQPConfiguration(url: url)
        c.connectionName = "warren-tests"
        return c
    }

    static func connect(_ tweak: (inout AMQPConfiguration) -> Void = { _ in }) async throws -> AMQPConnection {
        var c = try configuration()
        tweak(&c)
        return try await AMQPConnection.connect(c)
    }

    /// A name no other test uses.
    static func unique(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `rabbitmqctl` through the project's wrapper (`WARREN_RABBITMQCTL`).
    @discardableResult
    static func rabbitmqctl(_ args: String...) throws -> String {
        try BrokerControl.rabbitmqctl(args)
    }
}

/// Fails the test unless `body` throws an AMQPError with `code` (and, if given, `replyCode`).
func assertAMQPError<T>(_ code: AMQPError.Code, replyCode: UInt16? = nil, file: StaticString = #filePath, line: UInt = #line,
                        _ body: () async throws -> T) async -> AMQPError? {
    do {
        _ = try await body()
        XCTFail("expected AMQPError.\(code), got success", file: file, line: line)
    } catch let error as AMQPError {
        XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
        if let replyCode { XCTAssertEqual(error.replyCode, replyCode, "\(error)", file: file, line: line) }
        return error
    } catch {
        XCTFail("expected AMQPError.\(code), got \(error)", file: file, line: line)
    }
    return nil
}
