import Foundation
import Warren
import WarrenAMQP
import WarrenMetrics
import XCTest

/// The operations rules the CLI, the dashboard and services share, without a broker: environment -> topology,
/// environment -> broker URL, and the status report built from probe results.
final class OperationsRulesTests: XCTestCase {
    func testEnvironmentDefaultsAreOneClassicQueueWithoutPriority() throws {
        let t = try Topology(environment: [:])
        XCTAssertEqual(t, Topology(mode: .classic, queues: [Topology.Queue("default")]))
    }

    func testPriorityOnlyForClassicQueuesWithoutLanes() throws {
        let laned = try Topology(environment: ["WARREN_QUEUES": "a, b", "WARREN_LANES": "3"])
        XCTAssertEqual(laned.queues.map(\.maxPriority), [nil, nil])
        XCTAssertEqual(laned.queues.map(\.lanes), [3, 3])
        let quorum = try Topology(environment: ["WARREN_MODE": "quorum", "WARREN_MAX_PRIORITY": "5"])
        XCTAssertEqual(quorum.mode, .quorum)
        XCTAssertNil(quorum.queues[0].maxPriority)
        let classic = try Topology(environment: ["WARREN_MAX_PRIORITY": "5"])
        XCTAssertEqual(classic.queues[0].maxPriority, 5)
        let none = try Topology(environment: ["WARREN_MAX_PRIORITY": "0"])
        XCTAssertNil(none.queues[0].maxPriority)
    }

    func testExternalQueuesGetNoArguments() throws {
        let t = try Topology(environment: ["WARREN_QUEUES": "celery,default", "WARREN_EXTERNAL_QUEUES": "celery", "WARREN_MAX_PRIORITY": "10"])
        XCTAssertEqual(t.queues.map(\.external), [true, false])
        XCTAssertNil(t.queues[0].maxPriority)
        XCTAssertEqual(t.queues[1].maxPriority, 10)
    }

    func testBadEnvironmentValuesAreInvalidInput() {
        for env in [["WARREN_MODE": "stream"], ["WARREN_MAX_PRIORITY": "ten"], ["WARREN_MAX_PRIORITY": "300"],
                    ["WARREN_LANES": "x"], ["WARREN_LANES": "0"]] {
            XCTAssertThrowsError(try Topology(environment: env), "\(env)") { error in
                XCTAssertEqual((error as? WarrenError)?.code, .invalidInput, "\(env)")
            }
        }
    }

    func testBrokerURLFromVariableFileOrDefault() throws {
        XCTAssertEqual(try BrokerEnvironment.url(environment: [:]), BrokerEnvironment.defaultURL)
        XCTAssertEqual(try BrokerEnvironment.url(environment: ["WARREN_URL": "amqp://u:p@h:1/v"]), "amqp://u:p@h:1/v")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("warren-url-\(UUID().uuidString)")
        try "amqp://file:secret@127.0.0.1:5673/x\nignored\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertEqual(try BrokerEnvironment.url(environment: ["WARREN_URL": "amqp://u:p@h:1/v", "WARREN_URL_FILE": file.path]),
                       "amqp://file:secret@127.0.0.1:5673/x")
        let config = try BrokerEnvironment.configuration(name: "svc", environment: ["WARREN_URL_FILE": file.path])
        XCTAssertEqual(config.user, "file")
        XCTAssertEqual(config.connectionName, "svc")
        XCTAssertThrowsError(try BrokerEnvironment.url(environment: ["WARREN_URL_FILE": "/nonexistent/\(UUID())"]))
        XCTAssertEqual(BrokerEnvironment.list(["a, b", "", "c,,"]), ["a", "b", "c"])
    }

    func testStatusReportFromProbes() throws {
        let topology = try Topology(environment: ["WARREN_QUEUES": "mail", "WARREN_LANES": "2"])
        let probes: [String: QueueInfo] = [
            "mail": QueueInfo(name: "mail", messageCount: 7, consumerCount: 2),
            "mail.lane1": QueueInfo(name: "mail.lane1", messageCount: 1, consumerCount: 2),
            "mail.dead": QueueInfo(name: "mail.dead", messageCount: 3, consumerCount: 0),
            DelayRouting.queue(level: 4): QueueInfo(name: DelayRouting.queue(level: 4), messageCount: 5, consumerCount: 0),
            DelayRouting.queue(level: 5): QueueInfo(name: DelayRouting.queue(level: 5), messageCount: 0, consumerCount: 0),
            "mail.migrating": QueueInfo(name: "mail.migrating", messageCount: 9, consumerCount: 0),
        ]
        let figures = ["mail": QueueFigures(ready: 7, unacked: 4, consumers: 2, publishRate: 1.5)]
        let r = BrokerStatus.assemble(topology: topology, probes: probes, figures: figures, source: "test")
        XCTAssertEqual(r.queues.map(\.queue), ["mail.lane1", "mail"])
        XCTAssertEqual(r.queues.map(\.ready), [1, 7])
        XCTAssertEqual(r.queues.map(\.unacked), [nil, 4])
        XCTAssertEqual(r.queues.map(\.dead), [nil, 3])
        XCTAssertEqual(r.queues[1].publishRate, 1.5)
        XCTAssertEqual(r.delayLevels, [BrokerStatus.DelayLevel(level: 4, queue: DelayRouting.queue(level: 4), messages: 5)])
        XCTAssertEqual(r.pendingMigrations, [BrokerStatus.PendingMigration(holdingQueue: "mail.migrating", messages: 9)])
        let missing = BrokerStatus.assemble(topology: topology, probes: [:], figures: figures, source: "test")
        XCTAssertEqual(missing.queues.map(\.exists), [false, false])
        XCTAssertEqual(missing.queues.map(\.unacked), [nil, nil])
    }
}
