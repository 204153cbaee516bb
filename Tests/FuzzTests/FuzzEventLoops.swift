import NIOPosix

/// The event loops of every fuzzed server and client in this target, apart from NIO's shared
/// singleton: an extreme input (a million-deep nesting) keeps a loop busy for seconds, and on the
/// singleton that would stall the Raft heartbeats of other suites' clusters running meanwhile in
/// the same test process, making them elect new leaders mid-test.
enum FuzzEventLoops {
  static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
}
