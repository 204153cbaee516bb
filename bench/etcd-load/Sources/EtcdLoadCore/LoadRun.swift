import NIOCore
import NIOHTTP2
import NIOPosix

/// What one run measured.
public struct LoadOutcome: Sendable {
  public var succeeded: Int
  public var failed: Int
  /// From the first call's start to the last client's stop.
  public var elapsedSeconds: Double
  /// Latencies of the successful calls.
  public var latencyMicroseconds: LatencyHistogram
  public var failureSamples: [String]
  /// Clients still waiting for an answer when the run's time limit ran out (0 normally).
  public var unfinishedClients: Int
}

/// Runs the load `options` describe against etcd and gathers what it measured.
public enum LoadRun {
  /// A timed run waits this long past its duration for the calls in flight before giving up.
  public static let drainLimit: Duration = .seconds(10)
  /// A run of --total operations gives up after this long.
  public static let totalRunLimit: Duration = .seconds(3600)

  public static func run(_ options: LoadOptions) throws -> LoadOutcome {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
    defer { try? group.syncShutdownGracefully() }
    let template = KVRequestTemplate(
      mode: options.mode, keySize: options.keySize, valueSize: options.valueSize,
      serializable: options.serializable)
    var connections: [LoadConnection] = []
    defer { for connection in connections { try? connection.channel.close().wait() } }
    for number in 0..<options.connections {
      let endpoint = options.endpoints[number % options.endpoints.count]
      connections.append(try LoadConnection.open(to: endpoint, path: template.path, group: group))
    }

    let start = NIODeadline.now()
    let control = RunControl(options: options, start: start, allFinished: group.next().makePromise())
    let limit = (options.duration ?? totalRunLimit) + (options.duration == nil ? .zero : drainLimit)
    let giveUp = group.next().scheduleTask(in: .nanoseconds(RunControl.nanoseconds(limit))) {
      control.announceFinished()
    }
    let clients = (0..<options.clients).map { id in
      LoadClient(id: id, connection: connections[id % connections.count], control: control, template: template)
    }
    for client in clients { client.start() }
    try control.allFinished.futureResult.wait()
    giveUp.cancel()
    let unfinished = control.clientsRunning
    let end = unfinished == 0 ? control.lastFinish : NIODeadline.now()

    var histogram = LatencyHistogram()
    var failed = 0
    var samples: [String] = []
    for connection in connections {
      let tallies = try connection.tallies()
      histogram.merge(tallies.histogram)
      failed += tallies.failed
      samples += tallies.failureSamples.prefix(LoadConnection.failureSamplesMaximum - samples.count)
    }
    return LoadOutcome(
      succeeded: Int(histogram.count), failed: failed + unfinished,
      elapsedSeconds: Double(end.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9,
      latencyMicroseconds: histogram, failureSamples: samples, unfinishedClients: unfinished)
  }
}
