import Foundation

/// Sends fuzzed requests to the OM's HTTP port, one connection each, and checks:
///
/// * an intact request gets its status, in a well-formed response;
/// * a broken one gets a well-formed response or none, and the server ends the connection once
///   we stop sending (never holds it open);
/// * afterwards the tables are unchanged, no checkpoint directory is left behind (downloads
///   abandoned half way included), and a valid checkpoint download is still admitted (no
///   transfer slot leaked).
struct HTTPFuzzer {
  let target: any FuzzTarget
  /// The directory under which the OM keeps om.db (checkpoints are taken beside it).
  let dataDirectory: String
  let findings: FuzzFindings

  func run(iterations: Int, random: inout FuzzRandom) async throws {
    let digest = try await target.stateDigest()
    for iteration in 0..<iterations where !findings.isFull {
      if random.chance(1, in: 20) {
        try await abandonDownload()
        continue
      }
      let request =
        random.chance(1, in: 3) ? HTTPRequestGenerator.intact(random: &random) : HTTPRequestGenerator.broken(random: &random)
      try await exchange(request, iteration: iteration, random: &random)
    }
    for _ in 0..<3 {
      try await exchange(
        HTTPRequestGenerator.Request(
          bytes: HTTPRequestGenerator.head("GET", HTTPRequestGenerator.checkpointPath, headers: ["Connection: close"]),
          what: "a checkpoint after the fuzz", expectedStatuses: [200]), iteration: iterations, random: &random)
    }
    let leftovers = try await checkpointLeftovers()
    if !leftovers.isEmpty { findings.fail(iterations, "checkpoint directories left behind: \(leftovers)") }
    if try await target.stateDigest() != digest { findings.fail(iterations, "HTTP requests changed the tables") }
  }

  private func exchange(_ request: HTTPRequestGenerator.Request, iteration: Int, random: inout FuzzRandom) async throws {
    func fail(_ what: String) { findings.fail(iteration, "\(request.what): \(what)", input: request.bytes) }
    let connection = try await RawTCPConnection.connect(host: target.host, port: target.httpPort)
    for chunk in FrameFuzzer.chunks(of: request.bytes, random: &random) { await connection.send(chunk) }
    if request.expectedStatuses == nil { await connection.finishSending() }
    let closed = await connection.wait(timeout: .seconds(60)) { _ in false }
    let received = connection.received
    await connection.close()
    findings.count(request.expectedStatuses == nil ? "broken" : "intact")
    guard closed else { return fail("the server kept the connection open after the request") }
    guard let status = Self.status(of: received) else {
      if request.expectedStatuses != nil || !received.isEmpty {
        fail("not a well-formed HTTP response: \(FuzzFindings.hex(received, limit: 64))")
      }
      findings.count("closed without a response")
      return
    }
    findings.count("status \(status)")
    if let expected = request.expectedStatuses, !expected.contains(status) {
      fail("status \(status), expected one of \(expected.sorted())")
    }
  }

  /// Starts a checkpoint download and hangs up once the first bytes arrive: the transfer must
  /// still release its slot and remove its directory.
  private func abandonDownload() async throws {
    let connection = try await RawTCPConnection.connect(host: target.host, port: target.httpPort)
    await connection.send(HTTPRequestGenerator.head("GET", HTTPRequestGenerator.checkpointPath))
    _ = await connection.wait { !$0.isEmpty }
    await connection.close()
    findings.count("abandoned download")
  }

  /// The status code of the response at the start of `bytes`, if its head is well-formed.
  static func status(of bytes: [UInt8]) -> Int? {
    guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)),
      let head = String(validating: bytes[..<end.lowerBound], as: UTF8.self)
    else { return nil }
    let statusLine = head.split(separator: "\r\n", omittingEmptySubsequences: false)[0].split(separator: " ")
    guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1" || statusLine[0] == "HTTP/1.0", statusLine[1].count == 3,
      let status = Int(statusLine[1]), (100...599).contains(status)
    else { return nil }
    return status
  }

  /// Checkpoint directories still on disk once every transfer has ended (generous deadline:
  /// a finished transfer removes its directory right after the last chunk).
  private func checkpointLeftovers() async throws -> [String] {
    var leftovers: [String] = []
    let deadline = Date().addingTimeInterval(30)
    repeat {
      let entries = FileManager.default.enumerator(atPath: dataDirectory)?.compactMap { $0 as? String } ?? []
      leftovers = entries.filter { URL(fileURLWithPath: $0).lastPathComponent.contains(".checkpoint-") }
      if leftovers.isEmpty { return [] }
      try await Task.sleep(for: .milliseconds(50))
    } while Date() < deadline
    return leftovers
  }
}
