import Foundation
import NIOCore
import NIOPosix
import O3RPC
import O3Threads

/// The measuring process: starts the server as a child, then runs one echo level per in-flight
/// count over one connection and prints a row for each.
enum BenchClient {
  static func run(options: BenchOptions) async throws {
    // Starting the child reads its port from a pipe, and stopping it waits for its exit: both
    // block, so both run on a thread of their own, never on the cooperative pool.
    let child = try await onOwnThread("bench-server-start") { try ServerProcess.launch() }
    do {
      try await measure(child: child, options: options)
    } catch {
      await onOwnThread("bench-server-stop") { child.terminate() }
      throw error
    }
    await onOwnThread("bench-server-stop") { child.terminate() }
  }

  private static func measure(child: ServerProcess, options: BenchOptions) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let client = try await RPCClient.connect(host: "127.0.0.1", port: child.port, group: group)
    let payload = ByteBuffer(repeating: 0x5A, count: options.payloadBytes)
    print(
      "o3-rpc-bench: \(options.calls) calls per level, \(options.payloadBytes)-byte payload, "
        + "one connection, server pid \(child.processIdentifier)")
    print(Row.heading)
    for inFlight in options.inFlightLevels {
      _ = try await EchoRun.measure(
        client: client, payload: payload, calls: max(options.calls / 10, inFlight),
        inFlight: inFlight)
      let before = try await ServerStats.fetch(client)
      let clientCPUBefore = processCPUMicroseconds()
      let result = try await EchoRun.measure(
        client: client, payload: payload, calls: options.calls, inFlight: inFlight)
      let clientCPU = processCPUMicroseconds() - clientCPUBefore
      let after = try await ServerStats.fetch(client)
      print(
        Row(
          inFlight: inFlight, result: result, clientCPUMicroseconds: clientCPU,
          server: after.minus(before)
        ).text)
    }
    await client.close()
    try await group.shutdownGracefully()
  }
}

/// The measurement itself went wrong (as opposed to a bad command line).
struct BenchFailure: Error, CustomStringConvertible {
  var description: String
}

/// One line of the report.
private struct Row {
  static let heading =
    "in-flight    calls/s   p50 µs   p99 µs   client CPU µs/call   server CPU µs/call   replies/flush"

  var inFlight: Int
  var result: EchoRun.Result
  var clientCPUMicroseconds: Int64
  var server: ServerStats

  var text: String {
    let calls = Double(result.latenciesNanoseconds.count)
    let throughput = calls / result.elapsedSeconds
    let repliesPerFlush =
      server.flushes > 0 ? Double(server.repliesWritten) / Double(server.flushes) : 0
    return [
      pad(String(inFlight), 9),
      pad(String(Int(throughput)), 10),
      pad(format(result.percentileMicroseconds(0.50)), 8),
      pad(format(result.percentileMicroseconds(0.99)), 8),
      pad(format(Double(clientCPUMicroseconds) / calls), 20),
      pad(format(Double(server.cpuMicroseconds) / calls), 20),
      pad(format(repliesPerFlush), 15),
    ].joined(separator: " ")
  }

  private func format(_ value: Double) -> String {
    String(format: "%.1f", value)
  }

  private func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
  }
}

/// The server's own counters, from its "stats" method.
private struct ServerStats {
  var cpuMicroseconds: Int64
  var repliesWritten: Int64
  var flushes: Int64

  static func fetch(_ client: RPCClient) async throws -> ServerStats {
    var reply = try await client.call(
      method: BenchServer.statsMethod, payload: ByteBuffer(), deadline: .seconds(10)
    ).get()
    guard let cpu = reply.readInteger(as: UInt64.self),
      let replies = reply.readInteger(as: UInt64.self),
      let flushes = reply.readInteger(as: UInt64.self)
    else {
      throw BenchFailure(
        description: "the server's stats reply is \(reply.readableBytes) bytes, expected 24")
    }
    return ServerStats(
      cpuMicroseconds: Int64(cpu), repliesWritten: Int64(replies), flushes: Int64(flushes))
  }

  func minus(_ earlier: ServerStats) -> ServerStats {
    ServerStats(
      cpuMicroseconds: cpuMicroseconds - earlier.cpuMicroseconds,
      repliesWritten: repliesWritten - earlier.repliesWritten,
      flushes: flushes - earlier.flushes)
  }
}
