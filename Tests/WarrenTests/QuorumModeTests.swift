import Foundation
import Warren
import WarrenAMQP
import XCTest

/// Quorum mode on a single node, in a vhost of its own (one queue type per vhost: the delay levels are shared).
final class QuorumModeTests: XCTestCase {
    static let vhost = "warren-quorum-tests"

    override func setUp() async throws {
        let ctl = ProcessInfo.processInfo.environment["WARREN_RABBITMQCTL"]
            ?? "\(FileManager.default.currentDirectoryPath)/deploy/rabbitmq-local.sh ctl"
        for args in [["add_vhost", Self.vhost], ["set_permissions", "-p", Self.vhost, "guest", ".*", ".*", ".*"]] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ctl.split(separator: " ").map(String.init) + args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
        }
    }

    func testQuorumTopologyRetriesDelaysAndDeadLetters() async throws {
        let conn = try await JobsBroker.connect(vhost: Self.vhost)
        let q = Topology.Queue(JobsBroker.uniqueQueue("quorum"), lanes: 2)
        let topology = Topology(mode: .quorum, queues: [q])
        let log = JobLog()
        var registry = JobRegistry()
        registry.register(TestFlaky.self, retry: RetryPolicy(maxAttempts: 2, backoff: .init(base: .milliseconds(50), cap: .milliseconds(50), jitter: 0))) { args, ctx in
            await log.add("flaky", ctx)
            if ctx.attempt <= args.failures { throw JobFailure.retryable("no") }
        }
        registry.register(TestMark.self) { args, ctx in await log.add(args.label, ctx) }
        let (running, producer) = try await startWorker(conn, topology, registry)
        let ch = try await conn.openChannel()
        try await producer.enqueue(TestFlaky(failures: 1), options: .init(queue: q.name))
        try await producer.enqueue(TestFlaky(failures: 5), options: .init(queue: q.name, priority: 1))
        try await producer.enqueue(TestMark(label: "delayed"), options: .init(queue: q.name, delay: .milliseconds(300)))
        let done = await log.wait { $0.filter { $0.name == "flaky" }.count == 4 && $0.contains { $0.name == "delayed" } }
        XCTAssertTrue(done)
        let dlq = WireFormat.deadLetterQueue(for: q.name)
        try await eventually { try await ch.inspectQueue(dlq).messageCount == 1 }
        let dead = try await drain(dlq, on: ch)
        XCTAssertEqual(dead.first?.properties.headers?[WireFormat.Header.deadReason]?.stringValue, "exhausted")
        XCTAssertEqual(dead.first?.properties.priority, 1)
        try await running.stop()
        await JobsBroker.cleanUp(q, on: conn)
        await conn.close()
    }
}
