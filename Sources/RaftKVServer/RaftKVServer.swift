import ArgumentParser
import Foundation

/// A replicated key-value store over the real Raft stack (durable log, RaftRPC), for the
/// multi-process tests and the Raft benchmark. Not part of O3's product.
@main
struct RaftKVServer: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "RaftKVServer", abstract: "Raft key-value test server and benchmark.",
    subcommands: [ServeCommand.self, BenchCommand.self])
}

/// Writes a line to standard output at once (a pipe would otherwise buffer it).
func announce(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
