// swift-tools-version: 6.0
// Warren: background jobs on RabbitMQ, over librabbitmq-c.
//
// Layers (each a target, each depending only on the one below):
//   CRabbitMQ   - system library + thin C shim over librabbitmq-c (variadic login, eventfd)
//   WarrenAMQP  - AMQP 0-9-1 client: one I/O thread per connection, mailbox, confirms, recovery.
//                 No C type appears in its public API.
//   Warren      - jobs core: wire format, topology, producer, worker, retry, scheduler, dead letters.
//   WarrenStore - optional job state store (SQLite, PostgreSQL) behind Warren's JobStore protocol.
//   WarrenManagement - client of RabbitMQ's management HTTP API (unacked counts, rates, consumers).
//   WarrenDashboard  - the web dashboard (Hummingbird 2, Mustache templates, server-sent events).
//   WarrenCLI   - the `warren` executable (worker, enqueue, scheduler, dlq, status, bench).
import PackageDescription

let package = Package(
    name: "Warren",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "WarrenAMQP", targets: ["WarrenAMQP"]),
        .library(name: "Warren", targets: ["Warren"]),
        .executable(name: "warren", targets: ["WarrenCLI"]),
        .executable(name: "warren-bench", targets: ["WarrenBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(
            name: "WarrenAMQP",
            dependencies: [
                "CRabbitMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "Warren",
            dependencies: [
                "WarrenAMQP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "WarrenMetrics",
            dependencies: [
                "Warren",
                "WarrenAMQP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "WarrenStore",
            dependencies: [
                "Warren",
                "WarrenAMQP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The RabbitMQ management plugin's HTTP API (unacked counts, rates, consumers' hosts), over AsyncHTTPClient.
        .target(
            name: "WarrenManagement",
            dependencies: [
                "Warren",
                "WarrenAMQP",
                "WarrenMetrics",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The web dashboard (`warren dashboard`, or mounted in a Swift service): Hummingbird 2 + Mustache.
        .target(
            name: "WarrenDashboard",
            dependencies: [
                "Warren",
                "WarrenAMQP",
                "WarrenMetrics",
                "WarrenManagement",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "WarrenExample",
            dependencies: [
                "Warren",
                "WarrenAMQP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "WarrenCLI",
            dependencies: [
                "Warren",
                "WarrenAMQP",
                "WarrenMetrics",
                "WarrenStore",
                "WarrenManagement",
                "WarrenDashboard",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "WarrenBench",
            dependencies: [
                "Warren",
                "WarrenAMQP",
                "WarrenStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Broker control, bounded polling and delivery collection shared by both test targets.
        .target(name: "WarrenTestSupport", dependencies: ["WarrenAMQP", "WarrenMetrics"], path: "Tests/WarrenTestSupport"),
        .testTarget(name: "WarrenAMQPTests", dependencies: ["WarrenAMQP", "WarrenTestSupport"]),
        .testTarget(name: "WarrenTests", dependencies: [
            "Warren", "WarrenAMQP", "WarrenMetrics", "WarrenManagement", "WarrenDashboard", "WarrenTestSupport", "WarrenStore",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
