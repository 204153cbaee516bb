import Foundation

/// The benchmark server, running as a child process of this executable.
struct ServerProcess: @unchecked Sendable {
  // @unchecked: Process and Pipe are used by one thread at a time (start, then stop).
  let process: Process
  let port: Int
  /// Kept open so the child sees end-of-file (and exits) if this process dies.
  let stdinPipe: Pipe

  var processIdentifier: Int32 { process.processIdentifier }

  /// Starts `<this executable> serve --port 0` and reads the port it prints.
  static func launch() throws -> ServerProcess {
    guard let executable = Bundle.main.executableURL else {
      throw BenchFailure(description: "cannot find this executable's path to start the server")
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = ["serve", "--port", "0"]
    let stdoutPipe = Pipe()
    let stdinPipe = Pipe()
    process.standardOutput = stdoutPipe
    process.standardInput = stdinPipe
    try process.run()
    let line = readLine(stdoutPipe.fileHandleForReading)
    guard line.hasPrefix("port "), let port = Int(line.dropFirst("port ".count)) else {
      process.terminate()
      throw BenchFailure(description: "the server process printed \"\(line)\" instead of its port")
    }
    return ServerProcess(process: process, port: port, stdinPipe: stdinPipe)
  }

  /// Stops the child and waits for it.
  func terminate() {
    process.terminate()
    process.waitUntilExit()
  }

  private static func readLine(_ handle: FileHandle) -> String {
    var bytes: [UInt8] = []
    while bytes.count < 100 {
      let chunk = handle.readData(ofLength: 1)
      guard let byte = chunk.first, byte != UInt8(ascii: "\n") else { break }
      bytes.append(byte)
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
