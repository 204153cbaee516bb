// swift-tools-version:6.1
// etcd-load: a small gRPC load generator for etcd's KV service (Put, linearizable Range), used by
// bench/compare-etcd to measure etcd beside O3 on the same machine. It speaks gRPC directly over
// HTTP/2 with hand-encoded protobuf, so it needs no gRPC library and no code generation.
import PackageDescription

let package = Package(
  name: "etcd-load",
  platforms: [.macOS(.v15)],
  products: [.executable(name: "etcd-load", targets: ["EtcdLoad"])],
  dependencies: [
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
  ],
  targets: [
    .target(
      name: "EtcdLoadCore",
      dependencies: [
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        .product(name: "NIOHPACK", package: "swift-nio-http2"),
      ]),
    .executableTarget(name: "EtcdLoad", dependencies: ["EtcdLoadCore"]),
    .testTarget(name: "EtcdLoadTests", dependencies: ["EtcdLoadCore", .product(name: "NIOCore", package: "swift-nio")]),
  ]
)
