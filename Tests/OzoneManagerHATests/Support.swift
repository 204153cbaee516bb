import Foundation
#if canImport(Glibc)
  import Glibc
#endif
import OzoneManager
import O3TestSupport
import Testing


/// The `o3` binary built beside the tests.
enum O3Binary {
  static var path: String {
    let besideRunner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("o3")
    if FileManager.default.isExecutableFile(atPath: besideRunner.path) { return besideRunner.path }
    // swift test may run the tests through a helper; fall back to the package's build folder.
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return packageRoot.appendingPathComponent(".build/debug/o3").path
  }

  /// Runs `o3 arguments…` to completion, with `environment` added to this process's. The wait
  /// suspends and holds no thread: the tests share Swift's cooperative pool (two threads on a
  /// two-core machine), and a command that takes seconds on a loaded machine must not stall them.
  static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessRun {
    try await ProcessRun.run(path, arguments, environment: environment)
  }
}

/// A long-running `o3` command started by a test, with its output collected as it comes.
typealias O3Process = ManagedProcess

extension ManagedProcess {
  /// Starts `o3 arguments…`, output collected in memory.
  static func o3(_ arguments: [String]) async throws -> ManagedProcess {
    try await start(executable: O3Binary.path, arguments: arguments, output: .collected)
  }
}

/// A directory unique to one test, removed when the test ends.
final class TemporaryDirectory {
  let path: String

  init(_ label: String = #function) {
    let name = label.filter { $0.isLetter || $0.isNumber }
    path = FileManager.default.temporaryDirectory.appendingPathComponent("o3-ha-\(name)-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Base ports for `o3 local --base-port` in tests.
enum LocalPorts {
  /// A base whose ports for `nodeCount` OMs are all free now and handed out to no other test of
  /// this run (see `FreePorts`).
  static func freeBase(nodeCount: Int = 3) throws -> Int {
    try FreePorts.allocateBase { base in
      try LocalServiceLayout(root: "/unused", basePort: base, nodeCount: nodeCount).portsWithKeys.map(\.port)
    }
  }
}

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// A plain HTTP exchange with a server on 127.0.0.1 (a fresh connection each time).
enum HTTP {
  struct Reply {
    var status: Int
    var headers: [String: String]
    var body: String
  }

  static func request(port: Int, path: String, method: String = "GET", body: Data? = nil) async throws -> Reply {
    let reply = try await HTTPTestClient.request(port: port, path: path, method: method, body: body.map { [UInt8]($0) })
    return Reply(status: reply.status, headers: reply.headers, body: reply.text)
  }
}

/// The value of an unlabelled sample on a Prometheus page.
func prometheusValue(_ page: String, _ name: String) -> Double? {
  for line in page.split(separator: "\n") where line.hasPrefix(name + " ") {
    return Double(line.dropFirst(name.count + 1))
  }
  return nil
}

/// A TCP listener on 127.0.0.1 that holds a port, to show what a taken port does.
final class ListeningSocket {
  private var descriptor: Int32

  init(port: Int) throws {
    descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard descriptor >= 0, bound == 0, listen(descriptor, 1) == 0 else {
      throw TestFailure("cannot listen on port \(port)")
    }
  }

  func close() {
    if descriptor >= 0 { _ = Glibc.close(descriptor) }
    descriptor = -1
  }

  deinit { close() }
}
