import WarrenAMQP
import XCTest

final class URLParsingTests: XCTestCase {
    func testFullURL() throws {
        let c = try AMQPConfiguration(url: "amqps://bob:s%40cret@rabbit.example:5679/prod%2Fjobs?heartbeat=7&connection_timeout=2500&channel_max=9&frame_max=65536&name=api&delivery_batch_window=3&cacertfile=/ca.pem&certfile=/c.pem&keyfile=/k.pem&verify=verify_peer")
        XCTAssertEqual(c.endpoints, [.init(host: "rabbit.example", port: 5679)])
        XCTAssertEqual(c.user, "bob")
        XCTAssertEqual(c.password, "s@cret")
        XCTAssertEqual(c.virtualHost, "prod/jobs")
        XCTAssertEqual(c.heartbeat, 7)
        XCTAssertEqual(c.connectTimeout, .milliseconds(2500))
        XCTAssertEqual(c.channelMax, 9)
        XCTAssertEqual(c.frameMax, 65536)
        XCTAssertEqual(c.connectionName, "api")
        XCTAssertEqual(c.deliveryBatchWindow, .milliseconds(3))
        XCTAssertEqual(c.tls?.caCertificatePath, "/ca.pem")
        XCTAssertEqual(c.tls?.clientCertificatePath, "/c.pem")
        XCTAssertEqual(c.tls?.clientKeyPath, "/k.pem")
        XCTAssertEqual(c.tls?.verifyPeer, true)
    }

    func testDefaultsAndSeveralHosts() throws {
        let plain = try AMQPConfiguration(url: "amqp://")
        XCTAssertEqual(plain.endpoints, [.init(host: "127.0.0.1", port: 5672)])
        XCTAssertEqual(plain.virtualHost, "/")
        XCTAssertEqual(plain.deliveryBatchWindow, .milliseconds(1))
        XCTAssertEqual(plain.user, "guest")
        XCTAssertNil(plain.tls)
        let tls = try AMQPConfiguration(url: "amqps://h")
        XCTAssertEqual(tls.endpoints, [.init(host: "h", port: 5671)])
        let cluster = try AMQPConfiguration(url: "amqp://u:p@a:5672,b:5673,[::1]:5674/%2F")
        XCTAssertEqual(cluster.endpoints, [.init(host: "a", port: 5672), .init(host: "b", port: 5673), .init(host: "::1", port: 5674)])
        XCTAssertEqual(cluster.virtualHost, "/")
    }

    func testDescriptionNeverShowsPassword() throws {
        let c = try AMQPConfiguration(url: "amqp://user:topsecret@h/")
        XCTAssertFalse(c.description.contains("topsecret"))
        XCTAssertTrue(c.description.contains("user:***@h:5672"))
    }

    func testInvalidURLs() {
        for bad in ["http://h", "h:5672", "amqp://h:99999", "amqp://h:abc", "amqp://h?heartbeat=-1", "amqp://h?bogus=1",
                    "amqp://h?cacertfile=/x"] {
            XCTAssertThrowsError(try AMQPConfiguration(url: bad), bad) { error in
                XCTAssertEqual((error as? AMQPError)?.code, .invalidConfiguration, bad)
            }
        }
        XCTAssertThrowsError(try AMQPConfiguration(url: "amqp://u:pw@h:0")) { error in
            XCTAssertFalse("\(error)".contains("pw@"))
        }
    }
}
