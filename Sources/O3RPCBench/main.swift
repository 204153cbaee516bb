// o3-rpc-bench: echo throughput, latency and CPU per call of O3RPC, client and server in
// separate processes on loopback.
//
//   o3-rpc-bench [--calls N] [--in-flight 1,16,64] [--payload-bytes 100]
//   o3-rpc-bench serve --port 0      (started by the above; prints "port <n>" on stdout)

import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
do {
  if arguments.first == "serve" {
    try await BenchServer.run(options: try ServeOptions(parsing: Array(arguments.dropFirst())))
  } else {
    try await BenchClient.run(options: try BenchOptions(parsing: arguments))
  }
} catch {
  FileHandle.standardError.write(Data("o3-rpc-bench: \(error)\n".utf8))
  exit(1)
}
