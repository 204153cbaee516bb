/// A command-line argument that could not be used.
struct UsageError: Error, CustomStringConvertible {
  var description: String

  static let usage =
    "usage: o3-rpc-bench [--calls N] [--in-flight 1,16,64] [--payload-bytes 100] | serve --port N"
}

/// Options of the measuring (client) side.
struct BenchOptions {
  var calls = 200_000
  var inFlightLevels = [1, 16, 64]
  var payloadBytes = 100

  init(parsing arguments: [String]) throws {
    var remaining = arguments[...]
    while let flag = remaining.popFirst() {
      guard let value = remaining.popFirst() else {
        throw UsageError(description: "\(flag) needs a value; \(UsageError.usage)")
      }
      switch flag {
      case "--calls":
        calls = try positiveInteger(value, flag: flag)
      case "--in-flight":
        inFlightLevels = try value.split(separator: ",").map {
          try positiveInteger(String($0), flag: flag)
        }
      case "--payload-bytes":
        payloadBytes = try positiveInteger(value, flag: flag, allowZero: true)
      default:
        throw UsageError(description: "unknown option \(flag); \(UsageError.usage)")
      }
    }
  }
}

/// Options of the `serve` subcommand.
struct ServeOptions {
  var port = 0

  init(parsing arguments: [String]) throws {
    guard arguments.count == 2, arguments[0] == "--port" else {
      throw UsageError(description: UsageError.usage)
    }
    port = try positiveInteger(arguments[1], flag: "--port", allowZero: true)
  }
}

private func positiveInteger(_ text: String, flag: String, allowZero: Bool = false) throws -> Int {
  guard let value = Int(text), value > 0 || (allowZero && value == 0) else {
    throw UsageError(
      description:
        "\(flag) expects a \(allowZero ? "non-negative" : "positive") integer, got \"\(text)\"")
  }
  return value
}
