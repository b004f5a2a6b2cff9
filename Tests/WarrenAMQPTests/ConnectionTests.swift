import Foundation
import WarrenAMQP
import XCTest

final class ConnectionTests: XCTestCase {
    func testDistinctErrorsForBadURLWrongPasswordAndClosedPort() async throws {
        await assertAMQPError(.invalidConfiguration) { try await AMQPConnection.connect(url: "amqp://h:notaport") }

        var wrong = try TestBroker.configuration()
        wrong.password = "definitely-wrong"
        let start = ContinuousClock.now
        let auth = await assertAMQPError(.authenticationFailed, replyCode: 403) { try await AMQPConnection.connect(wrong) }
        XCTAssertFalse(auth?.description.contains("definitely-wrong") ?? true, "password leaked into the error")

        var closed = try TestBroker.configuration()
        closed.endpoints = [.init(host: "127.0.0.1", port: 1)]
        closed.connectTimeout = .seconds(2)
        let refused = await assertAMQPError(.connectFailed) { try await AMQPConnection.connect(closed) }
        XCTAssertTrue(refused?.message.contains("refused") ?? false, "\(String(describing: refused))")

        var vhost = try TestBroker.configuration()
        vhost.virtualHost = "no-such-vhost"
        await assertAMQPError(.accessRefused, replyCode: 530) { try await AMQPConnection.connect(vhost) }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(10))
    }

    /// The I/O thread carries its name in the kernel, so `top -H`, `ps -L` and `perf` tell it from the pool's.
    func testIOThreadIsNamedForOperators() async throws {
        let conn = try await TestBroker.connect()
        let names = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap {
            try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertTrue(names.contains("warren-amqp-io"), "thread names: \(names)")
        await conn.close()
    }

    func testSlowJobOnAnotherThreadKeepsHeartbeatsAndAcks() async throws {
        let conn = try await TestBroker.connect { $0.heartbeat = 2 }
        let ch = try await conn.openChannel()
        let q = TestBroker.unique("heartbeat")
        try await ch.declareQueue(q, durable: false)
        try await ch.publish(OutgoingMessage(routingKey: q, body: [1]))
        let delivery = try await waitForGet(ch, q)
        var lost = false
        let events = conn.events()
        let watcher = Task { for await e in events { if case .disconnected = e { return true } }; return false }
        // A 10 s blocking job on a plain thread: nothing calls the library but the I/O thread.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 10)
                done.resume()
            }
        }
        try await delivery.ack()
        try await Task.sleep(for: .milliseconds(300))
        watcher.cancel()
        lost = await watcher.value
        XCTAssertFalse(lost, "connection dropped during the slow job")
        XCTAssertTrue(conn.isConnected)
        let value1 = try await ch.inspectQueue(q).messageCount
        XCTAssertEqual(value1, 0, "ack did not land: the message would be redelivered")
        try await ch.deleteQueue(q)
        await conn.close()
    }

    func testTLSWithVerificationAndWrongCA() async throws {
        let dir = TestBroker.tlsDir
        // scripts/test.sh always provides the material: its absence is a failure, not a reason to skip.
        guard FileManager.default.fileExists(atPath: "\(dir)/ca.pem") else {
            return XCTFail("no TLS material at \(dir) (deploy/rabbitmq-local.sh start generates it)")
        }
        var good = try AMQPConfiguration(url: TestBroker.tlsURL)
        good.tls?.caCertificatePath = "\(dir)/ca.pem"
        let conn = try await AMQPConnection.connect(good)
        let ch = try await conn.openChannel(confirmWindow: 1)
        let q = TestBroker.unique("tls")
        try await ch.declareQueue(q, durable: false)
        let value2 = try await ch.publish(OutgoingMessage(routingKey: q, body: [7]))
        XCTAssertEqual(value2, .acked)
        let value3 = try await waitForGet(ch, q).body
        XCTAssertEqual(value3, [7])
        try await ch.deleteQueue(q)
        await conn.close()

        var mutual = good
        mutual.tls?.clientCertificatePath = "\(dir)/client.pem"
        mutual.tls?.clientKeyPath = "\(dir)/client.key"
        let mconn = try await AMQPConnection.connect(mutual)
        await mconn.close()

        var wrong = good
        wrong.tls?.caCertificatePath = "\(dir)/wrong-ca.pem"
        wrong.connectTimeout = .seconds(5)
        let error = await assertAMQPError(.tlsFailure) { try await AMQPConnection.connect(wrong) }
        XCTAssertTrue(error?.message.contains("localhost:5671") ?? false, "\(String(describing: error))")
    }

    func testBrokerRestartRecoversTopologyAndConsumers() async throws {
        let conn = try await TestBroker.connect { $0.heartbeat = 5 }
        let events = conn.events()
        let ch = try await conn.openChannel(confirmWindow: 100)
        let q = TestBroker.unique("recover")
        let x = TestBroker.unique("recover-x")
        try await ch.declareExchange(x, type: .direct, durable: false, autoDelete: false)
        try await ch.declareQueue(q, durable: false, autoDelete: false)  // transient: only recovery brings it back
        try await ch.bindQueue(q, exchange: x, routingKey: "k")
        try await ch.qos(prefetchCount: 10)
        let consumer = try await ch.consume(queue: q)
        var iterator = consumer.makeAsyncIterator()
        try await ch.publish(OutgoingMessage(exchange: x, routingKey: "k", body: [1]))
        let before = try await iterator.next()
        XCTAssertEqual(before?.body, [1])

        try TestBroker.rabbitmqctl("stop_app")
        defer { _ = try? TestBroker.rabbitmqctl("start_app") }
        try await waitUntil(timeout: 20) { !conn.isConnected }
        await assertAMQPError(.staleDelivery) { try await before!.ack() }
        try TestBroker.rabbitmqctl("start_app")
        try await waitUntil(timeout: 60) { conn.isConnected }
        var sawRecovered = false
        for await e in events {
            if case .recovered = e { sawRecovered = true; break }
        }
        XCTAssertTrue(sawRecovered)
        // The transient exchange, queue and binding were re-declared; the consumer resumed on the same stream.
        let outcome = try await ch.publish(OutgoingMessage(exchange: x, routingKey: "k", mandatory: true, body: [2]))
        XCTAssertEqual(outcome, .acked)
        let after = try await iterator.next()
        XCTAssertEqual(after?.body, [2])
        try await after?.ack()
        await consumer.cancel()
        try await ch.deleteQueue(q)
        try await ch.deleteExchange(x)
        await conn.close()
    }
}
