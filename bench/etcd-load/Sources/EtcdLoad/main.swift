import EtcdLoadCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// etcd-load: drives etcd's KV service with Put or Range calls and prints ops/s and latencies.
// Exit status: 0 when every call succeeded, 1 when some failed, 2 for a bad command line.

/// Writes one line to standard error without Foundation.
func printError(_ text: String) {
  var line = text + "\n"
  line.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
}

let options: LoadOptions
do {
  options = try LoadOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
  printError("etcd-load: \(error.message)")
  exit(2)
}
do {
  let report = LoadReport(options: options, outcome: try LoadRun.run(options))
  if !report.outcome.failureSamples.isEmpty {
    printError("\(report.outcome.failed) calls failed; the first: " + report.outcome.failureSamples.joined(separator: "; "))
  }
  print(options.json ? report.json() : report.text())
  exit(report.outcome.failed == 0 ? 0 : 1)
} catch {
  printError("etcd-load: \(error)")
  exit(1)
}
