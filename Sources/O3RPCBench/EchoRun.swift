import NIOCore
import O3RPC

/// Keeps `inFlight` echo calls outstanding until `calls` have completed, entirely on the
/// connection's event loop: each completion starts the next call from its callback.
final class EchoRun {
  /// What one run measured.
  struct Result: Sendable {
    var latenciesNanoseconds: [Int64]
    var elapsedSeconds: Double

    func percentileMicroseconds(_ fraction: Double) -> Double {
      let sorted = latenciesNanoseconds.sorted()
      guard !sorted.isEmpty else { return 0 }
      let index = min(sorted.count - 1, Int(Double(sorted.count) * fraction))
      return Double(sorted[index]) / 1000
    }
  }

  private let client: RPCClient
  private let payload: ByteBuffer
  private let calls: Int
  private let done: EventLoopPromise<[Int64]>
  private var started = 0
  /// Set at the first failure: the run stops starting calls.
  private var failed = false
  private var latenciesNanoseconds: [Int64]

  private init(client: RPCClient, payload: ByteBuffer, calls: Int, done: EventLoopPromise<[Int64]>)
  {
    self.client = client
    self.payload = payload
    self.calls = calls
    self.done = done
    latenciesNanoseconds = []
    latenciesNanoseconds.reserveCapacity(calls)
  }

  static func measure(client: RPCClient, payload: ByteBuffer, calls: Int, inFlight: Int)
    async throws -> Result
  {
    let eventLoop = client.eventLoop
    let clock = ContinuousClock()
    let start = clock.now
    let latencies = try await eventLoop.flatSubmit {
      let run = EchoRun(
        client: client, payload: payload, calls: calls,
        done: eventLoop.makePromise(of: [Int64].self))
      for _ in 0..<min(inFlight, calls) {
        run.startCall()
      }
      return run.done.futureResult
    }.get()
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Result(latenciesNanoseconds: latencies, elapsedSeconds: seconds)
  }

  private func startCall() {
    started += 1
    let sent = NIODeadline.now()
    let expectedBytes = payload.readableBytes
    client.call(method: BenchServer.echoMethod, payload: payload, deadline: nil)
      .assumeIsolated()
      .whenComplete { result in
        guard !self.failed else { return }
        switch result {
        case .success(let reply) where reply.readableBytes == expectedBytes:
          self.latenciesNanoseconds.append((NIODeadline.now() - sent).nanoseconds)
        case .success(let reply):
          self.fail(
            BenchFailure(
              description: "echo returned \(reply.readableBytes) bytes, sent \(expectedBytes)"))
          return
        case .failure(let error):
          self.fail(error)
          return
        }
        if self.started < self.calls {
          self.startCall()
        } else if self.latenciesNanoseconds.count == self.calls {
          self.done.succeed(self.latenciesNanoseconds)
        }
      }
  }

  private func fail(_ error: any Error) {
    failed = true
    done.fail(error)
  }
}
