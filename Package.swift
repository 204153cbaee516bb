// swift-tools-version:6.1
// O3: Apache Ozone's Ozone Manager, highly available, in Swift. Module map and dependency direction:
// docs/architecture.md. The MARK sections below go from the leaves up; a target imports only targets
// of its own section or of earlier ones.
import PackageDescription

let package = Package(
  name: "O3",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "o3", targets: ["O3CLI"]),
    .executable(name: "o3-rpc-bench", targets: ["O3RPCBench"]),
    .library(name: "RaftSimulation", targets: ["RaftSimulation"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
    .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    // Traits off: no swift-configuration (O3 reads Ozone's XML configuration itself).
    .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
    .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
  ],
  targets: [
    // MARK: leaves (no project dependency)
    // The project's own threads (`nameCurrentThread`), apart from O3Common so that Raft and
    // OMMetadata need no configuration code.
    .target(name: "O3Threads"),
    // `TermIndex`, a position in a replicated log: shared by the consensus core and the OM's
    // metadata without either importing the other.
    .target(name: "LogPosition"),

    // MARK: storage
    .systemLibrary(
      name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),
    .target(name: "RocksDB", dependencies: ["CRocksDB"]),

    // MARK: consensus: RaftCore imports only LogPosition (`TermIndex`, re-exported); Raft is its
    // runtime (threads, durable log); RaftSimulation drives the runtime's Ready handling over
    // simulated disks and networks and checks linearizability.
    .target(name: "RaftCore", dependencies: ["LogPosition"]),
    .target(name: "Raft", dependencies: ["RaftCore", "O3Threads", .product(name: "Logging", package: "swift-log")]),
    .target(name: "RaftSimulation", dependencies: ["RaftCore", "Raft"]),

    // MARK: RPC
    .target(
      name: "O3RPC",
      dependencies: [
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOExtras", package: "swift-nio-extras"),
      ]),

    .target(
      name: "RaftProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    .target(
      name: "RaftRPC",
      dependencies: [
        "Raft", "RaftCore", "RaftProto", "O3RPC",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]),

    // MARK: Ozone Manager: configuration, protocol and metadata (om.db)
    .target(name: "O3Common", dependencies: [.product(name: "Logging", package: "swift-log")]),
    .target(
      name: "OMProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    .target(
      name: "OMMetadata",
      dependencies: ["RocksDB", "OMProto", "LogPosition", "O3Threads", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),

    // MARK: Ozone Manager: domain. Requests, transactions, apply: no network, Raft or clock.
    .target(
      name: "OMDomain",
      dependencies: [
        "OMMetadata", "OMProto",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
      ]),

    // MARK: what every O3 server shares (HTTP with status page and /prom, an RPC port, a Raft group,
    // the process life); the OM today, SCM, datanodes and the S3 gateway next
    .target(
      name: "O3Service",
      dependencies: [
        "O3Common", "O3RPC", "O3Threads", "Raft", "RaftCore", "RaftRPC",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]),

    // MARK: Storage Container Manager: protocol, scm.db, the replicated state (no network, Raft or
    // clock), and the server with its client.
    .target(name: "SCMProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    .target(name: "SCMMetadata", dependencies: ["RocksDB", "LogPosition", "O3Threads"]),
    .target(
      name: "SCMDomain",
      dependencies: ["SCMMetadata", "SCMProto", "LogPosition", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    .target(
      name: "StorageContainerManager",
      dependencies: [
        "SCMDomain", "SCMMetadata", "SCMProto", "O3Common", "O3Threads", "O3RPC", "O3Service", "Raft", "RaftCore",
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
      ]),

    // MARK: Datanode: identity, volumes, the conversation with SCM (containers and pipelines next).
    .target(
      name: "Datanode",
      dependencies: [
        "StorageContainerManager", "SCMProto", "O3Common", "O3Threads", "O3RPC", "O3Service",
        .product(name: "Yams", package: "Yams"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
      ]),

    // MARK: test support: a tiny replicated key-value store over the real Raft stack; its server
    // also hosts many groups on the service kit's RaftMultiGroupHost
    .target(
      name: "RaftKV",
      dependencies: [
        "Raft", "RaftCore", "RaftRPC", "O3RPC", "O3TestSupport",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .executableTarget(
      name: "RaftKVServer",
      dependencies: [
        "RaftKV", "Raft", "RaftCore", "RaftRPC", "O3Threads", "O3Service", "O3Common",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]),

    // MARK: Ozone Manager: the server (Server/, HA/, Checkpoint/, HTTP/, Admin/), the client, the CLI
    .target(
      name: "OzoneManager",
      dependencies: [
        "OMDomain", "OMMetadata", "OMProto", "O3Common", "O3Threads", "O3RPC", "O3Service", "Raft", "RaftCore", "RaftRPC",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "_NIOFileSystem", package: "swift-nio"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .target(
      name: "OzoneClient",
      dependencies: [
        "O3RPC", "OMProto", "O3Common",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]),
    .executableTarget(
      name: "O3CLI",
      dependencies: [
        "OzoneManager", "OzoneClient", "O3Common", "O3Service", "O3Threads", "OMProto", "StorageContainerManager", "SCMProto",
        "Datanode",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]),
    .executableTarget(name: "O3RPCBench", dependencies: ["O3RPC", "O3Threads"]),

    // MARK: tests
    .target(
      name: "O3TestSupport",
      dependencies: [
        "RaftSimulation", "O3Threads", .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "Subprocess", package: "swift-subprocess"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]),
    .testTarget(name: "O3TestSupportTests", dependencies: ["O3TestSupport"]),
    .testTarget(name: "RocksDBTests", dependencies: ["O3TestSupport", "RocksDB"]),
    .testTarget(name: "RaftCoreTests", dependencies: ["O3TestSupport", "RaftCore"], exclude: ["testdata"]),
    .testTarget(name: "RaftSimulationTests", dependencies: ["O3TestSupport", "O3Threads", "RaftSimulation", "RaftCore"]),
    .testTarget(name: "RaftTests", dependencies: ["O3TestSupport", "O3Threads", "Raft", "RaftCore", "RaftSimulation"]),
    .testTarget(
      name: "RaftProcessTests",
      dependencies: ["O3TestSupport", "RaftKV", "RaftKVServer", "RaftCore", "RaftSimulation", "O3RPC"]),
    .testTarget(name: "O3RPCTests", dependencies: ["O3RPC", "O3TestSupport"]),
    .testTarget(
      name: "RaftRPCTests",
      dependencies: [
        "RaftRPC", "Raft", "RaftCore", "RaftProto", "O3RPC", "O3TestSupport",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]),
    .testTarget(name: "O3CommonTests", dependencies: ["O3TestSupport", "O3Common"]),
    .testTarget(
      name: "O3ServiceTests",
      dependencies: [
        "O3Service", "O3TestSupport", "O3Common", "Raft", "RaftCore", .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .testTarget(
      name: "StorageContainerManagerTests",
      dependencies: [
        "StorageContainerManager", "SCMDomain", "SCMMetadata", "SCMProto", "O3TestSupport", "O3Common", "Raft", "RaftCore",
        .product(name: "NIOPosix", package: "swift-nio"),
      ]),
    .testTarget(name: "OMMetadataTests", dependencies: ["O3TestSupport", "OMMetadata", "OMProto", "RocksDB"]),
    .testTarget(
      name: "OzoneManagerTests",
      dependencies: [
        "OzoneManager", "OMDomain", "OMMetadata", "OMProto", "O3Common", "O3RPC", "O3Service", "OzoneClient", "O3TestSupport",
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]),
    .testTarget(name: "O3CLITests", dependencies: ["O3TestSupport", "O3CLI"]),
    .testTarget(
      name: "OzoneClientTests",
      dependencies: ["O3TestSupport", 
        "OzoneClient", "O3RPC", "OMProto", "O3Common",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]),
    .testTarget(
      name: "OzoneManagerHATests",
      dependencies: [
        "O3CLI", "OzoneClient", "OMProto", "O3Common", "RaftSimulation", "OzoneManager", "O3TestSupport",
        .product(name: "Prometheus", package: "swift-prometheus"),
      ]),
    .testTarget(
      name: "FaultTests",
      dependencies: [
        "O3CLI", "OzoneClient", "OzoneManager", "OMMetadata", "OMProto", "O3Common", "RaftSimulation",
        "O3TestSupport",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]),
    .testTarget(
      name: "FuzzTests",
      dependencies: [
        "O3CLI", "OzoneManager", "OMDomain", "OMMetadata", "OMProto", "O3Common", "O3RPC", "RaftRPC", "RaftProto",
        "O3TestSupport",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]),
  ]
)
