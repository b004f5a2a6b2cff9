import WarrenAMQP
import XCTest

/// Collects up to `count` deliveries from a consumer, failing after `timeout` seconds.
public func collect(_ consumer: AMQPConsumer, count: Int, timeout: Double = 10, ack: Bool = true,
             file: StaticString = #filePath, line: UInt = #line) async throws -> [AMQPDelivery] {
    try await withThrowingTaskGroup(of: [AMQPDelivery]?.self) { group in
        group.addTask {
            var got: [AMQPDelivery] = []
            for try await d in consumer {
                if ack { try await d.ack() }
                got.append(d)
                if got.count == count { break }
            }
            return got
        }
        group.addTask {
            try await Task.sleep(for: .seconds(timeout))
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let got = first else {
            XCTFail("timed out waiting for \(count) deliveries", file: file, line: line)
            return []
        }
        return got
    }
}
