import Foundation
#if canImport(Glibc)
  import Glibc
#endif
import OzoneManager
import O3TestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

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

  /// The outcome of one finished `o3` run.
  struct Result {
    var exitCode: Int32
    var standardOutput: String
    var standardError: String

    var json: Any? { try? JSONSerialization.jsonObject(with: Data(standardOutput.utf8)) }
  }

  /// Runs `o3 arguments…` to completion, with `environment` added to this process's. The wait
  /// happens on a thread of its own: the tests share Swift's cooperative pool (two threads on a
  /// two-core machine), and a command that takes seconds on a loaded machine must not stall them.
  static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        continuation.resume(with: Swift.Result { try runWaiting(arguments, environment: environment) })
      }
    }
  }

  private static func runWaiting(_ arguments: [String], environment: [String: String]) throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Read standard error on another thread, so a chatty child never blocks on a full pipe.
    let errorText = LockedText()
    let errorDone = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
      errorText.append(String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
      errorDone.signal()
    }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    errorDone.wait()
    return Result(
      exitCode: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
      standardError: errorText.text)
  }
}

/// A long-running `o3` command started by a test, with its output collected as it comes.
final class O3Process {
  let process = Process()
  let output = LockedText()
  let errors = LockedText()

  init(_ arguments: [String]) throws {
    process.executableURL = URL(fileURLWithPath: O3Binary.path)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    let outputPipe = Pipe()
    let errorPipe = Pipe()
    process.standardOutput = outputPipe
    process.standardError = errorPipe
    let output = self.output
    let errors = self.errors
    outputPipe.fileHandleForReading.readabilityHandler = { output.append(String(decoding: $0.availableData, as: UTF8.self)) }
    errorPipe.fileHandleForReading.readabilityHandler = { errors.append(String(decoding: $0.availableData, as: UTF8.self)) }
    try process.run()
  }

  /// Waits until standard output contains `text` (true), or the process ends or the generous
  /// deadline passes first (false). Sleeps between looks without holding a thread: the tests
  /// share Swift's cooperative pool (two threads on a two-core machine), and a blocked one stalls
  /// every other test.
  func waitForOutput(containing text: String, deadlineSeconds: Double = 180) async -> Bool {
    let deadline = Date().addingTimeInterval(deadlineSeconds)
    while !output.text.contains(text) {
      guard process.isRunning, Date() < deadline else { return output.text.contains(text) }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return true
  }

  /// Sends SIGTERM and waits for the exit status.
  func terminate() -> Int32 {
    if process.isRunning {
      kill(process.processIdentifier, SIGTERM)
      process.waitUntilExit()
    }
    return process.terminationStatus
  }

  deinit {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }
}

/// Text appended from one thread and read from another.
final class LockedText: @unchecked Sendable {
  // @unchecked: `buffer` is guarded by `lock`.
  private let lock = NSLock()
  private var buffer = ""

  func append(_ more: String) { lock.withLock { buffer += more } }
  var text: String { lock.withLock { buffer } }
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

/// A plain HTTP exchange with a server on 127.0.0.1.
enum HTTP {
  struct Reply {
    var status: Int
    var headers: [String: String]
    var body: String
  }

  static func request(port: Int, path: String, method: String = "GET", body: Data? = nil) async throws -> Reply {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.httpMethod = method
    request.httpBody = body
    request.timeoutInterval = 60
    let (data, response): (Data, URLResponse) = try await withCheckedThrowingContinuation { continuation in
      URLSession.shared.dataTask(with: request) { data, response, error in
        if let error {
          continuation.resume(throwing: error)
        } else {
          continuation.resume(returning: (data ?? Data(), response!))
        }
      }.resume()
    }
    let http = try #require(response as? HTTPURLResponse)
    var headers: [String: String] = [:]
    for (name, value) in http.allHeaderFields {
      headers[String(describing: name).lowercased()] = String(describing: value)
    }
    return Reply(status: http.statusCode, headers: headers, body: String(decoding: data, as: UTF8.self))
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
