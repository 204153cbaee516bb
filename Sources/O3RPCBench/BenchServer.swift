import Foundation
import NIOCore
import NIOPosix
import O3RPC
import O3Threads
import Synchronization

/// The child process: an echo server with a "stats" method reporting its own CPU use.
enum BenchServer {
  static let echoMethod = "echo"
  /// Answers three big-endian UInt64: CPU microseconds, replies written, reply flushes.
  static let statsMethod = "stats"

  static func run(options: ServeOptions) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let statistics = StatisticsSource()
    var router = RPCRouter()
    router.register(echoMethod) { payload, _, responder in
      responder.succeed(payload)
    }
    router.register(statsMethod) { _, _, responder in
      var reply = ByteBuffer()
      let counters = statistics.server.withLock { $0 }?.statistics
      reply.writeInteger(UInt64(processCPUMicroseconds()))
      reply.writeInteger(UInt64(counters?.repliesWritten ?? 0))
      reply.writeInteger(UInt64(counters?.flushes ?? 0))
      responder.succeed(reply)
    }
    let server = try await RPCServer.start(
      host: "127.0.0.1", port: options.port, handler: router, group: group)
    statistics.server.withLock { $0 = server }
    FileHandle.standardOutput.write(Data("port \(server.localPort)\n".utf8))
    // Runs until the parent kills it or closes our stdin (the parent died).
    await onOwnThread("stdin-watch") { while !FileHandle.standardInput.availableData.isEmpty {} }
    try await server.shutdown()
    try await group.shutdownGracefully()
  }
}

/// Lets the stats route reach the server it is registered on, which exists only after start.
private final class StatisticsSource: Sendable {
  let server = Mutex<RPCServer?>(nil)
}
