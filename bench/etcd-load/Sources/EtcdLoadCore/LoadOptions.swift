/// What etcd-load does, parsed from options named as etcd's own `benchmark` tool names them.
public struct LoadOptions: Sendable, Equatable {
  /// The etcd call each operation makes.
  public enum Mode: String, Sendable {
    /// `/etcdserverpb.KV/Put`: one replicated write.
    case put
    /// `/etcdserverpb.KV/Range` of one key: a linearizable read unless `--consistency s`.
    case range
  }

  /// Limits that keep one run bounded in memory and file descriptors.
  public static let clientsMaximum = 4096
  public static let connectionsMaximum = 256
  public static let threadsMaximum = 8
  public static let keySizeRange = 1...1024
  /// etcd refuses requests over 1.5 MiB by default; a value stays well under that.
  public static let valueSizeMaximum = 1 << 20
  /// Operations a run makes when neither --total nor --duration is given.
  public static let defaultTotal = 10_000

  public var endpoints: [Endpoint] = [Endpoint(host: "127.0.0.1", port: 2379)]
  public var connections = 1
  public var clients = 1
  /// Operations to run, or nil for a timed run.
  public var total: Int? = LoadOptions.defaultTotal
  /// How long a timed run lasts.
  public var duration: Duration?
  public var keySize = 16
  public var valueSize = 100
  /// Keys are the indexes 0 … keySpaceSize − 1, written in decimal and padded with zeros.
  public var keySpaceSize = 100_000
  public var mode = Mode.put
  /// Range with `serializable = true` (a local read on whichever member answers).
  public var serializable = false
  /// Event loop threads; the load shares the machine's cores with the servers it measures.
  public var threads = 1
  public var json = false

  public init() {}

  public static let usage = """
    usage: etcd-load put|range [--endpoints host:port,...] [--conns N] [--clients N]
                     [--total N | --duration 10s] [--key-size 16] [--val-size 100]
                     [--key-space-size N] [--consistency l|s] [--threads N] [--json]
    """

  /// Parses `arguments` (without the program name); `--name value` and `--name=value` both work.
  public static func parse(_ arguments: [String]) throws(LoadOptionsError) -> LoadOptions {
    var options = LoadOptions()
    var remaining = arguments[...]
    var sawTotal = false
    while let argument = remaining.popFirst() {
      guard argument.hasPrefix("--") else {
        guard let mode = Mode(rawValue: argument) else { throw LoadOptionsError("unknown mode '\(argument)'") }
        options.mode = mode
        continue
      }
      var name = String(argument.dropFirst(2))
      var inlineValue: String?
      if let equals = name.firstIndex(of: "=") {
        inlineValue = String(name[name.index(after: equals)...])
        name = String(name[..<equals])
      }
      if name == "json" {
        options.json = true
        continue
      }
      if name == "help" { throw LoadOptionsError(usage) }
      guard let value = inlineValue ?? remaining.popFirst() else { throw LoadOptionsError("--\(name) needs a value") }
      switch name {
      case "endpoints":
        options.endpoints = []
        for text in value.split(separator: ",") { options.endpoints.append(try Endpoint.parse(String(text))) }
      case "conns": options.connections = try integer(name, value, in: 1...connectionsMaximum)
      case "clients": options.clients = try integer(name, value, in: 1...clientsMaximum)
      case "total":
        options.total = try integer(name, value, in: 1...Int(Int32.max))
        sawTotal = true
      case "duration": options.duration = try parseDuration(value)
      case "key-size": options.keySize = try integer(name, value, in: keySizeRange)
      case "val-size": options.valueSize = try integer(name, value, in: 0...valueSizeMaximum)
      case "key-space-size": options.keySpaceSize = try integer(name, value, in: 1...Int(Int32.max))
      case "mode":
        guard let mode = Mode(rawValue: value) else { throw LoadOptionsError("unknown mode '\(value)'") }
        options.mode = mode
      case "consistency":
        guard value == "l" || value == "s" else { throw LoadOptionsError("--consistency is l or s, not '\(value)'") }
        options.serializable = value == "s"
      case "threads": options.threads = try integer(name, value, in: 1...threadsMaximum)
      default: throw LoadOptionsError("unknown option --\(name)\n\(usage)")
      }
    }
    if options.duration != nil {
      if sawTotal { throw LoadOptionsError("give --total or --duration, not both") }
      options.total = nil
    }
    if options.endpoints.isEmpty { throw LoadOptionsError("--endpoints is empty") }
    let widest = String(options.keySpaceSize - 1).count
    if widest > options.keySize {
      throw LoadOptionsError(
        "--key-size \(options.keySize) cannot hold key index \(options.keySpaceSize - 1): lower --key-space-size")
    }
    return options
  }

  private static func integer(_ name: String, _ text: String, in range: ClosedRange<Int>) throws(LoadOptionsError)
    -> Int
  {
    guard let value = Int(text), range.contains(value) else {
      throw LoadOptionsError("--\(name) '\(text)' is not a whole number in \(range.lowerBound)…\(range.upperBound)")
    }
    return value
  }

  /// `500ms`, `10s`, `2m`, or a bare number of seconds.
  static func parseDuration(_ text: String) throws(LoadOptionsError) -> Duration {
    let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
    let unit = units.first { text.hasSuffix($0.suffix) } ?? ("", 1000)
    guard let number = Int64(text.dropLast(unit.suffix.count)), number > 0, number <= Int64(Int32.max) else {
      throw LoadOptionsError("--duration '\(text)' is not a positive duration (examples: 500ms, 10s, 2m)")
    }
    return .milliseconds(number * unit.milliseconds)
  }
}

/// One etcd member's client address.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
  public var host: String
  public var port: Int

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  public var description: String { "\(host):\(port)" }

  /// `host:port`, optionally written as a URL: `http://127.0.0.1:2379`.
  static func parse(_ text: String) throws(LoadOptionsError) -> Endpoint {
    var rest = Substring(text)
    if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
    guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
      (1...65535).contains(port), colon > rest.startIndex
    else {
      throw LoadOptionsError("endpoint '\(text)' is not host:port")
    }
    return Endpoint(host: String(rest[..<colon]), port: port)
  }
}

/// A command line etcd-load cannot run; the message says what to change.
public struct LoadOptionsError: Error, Equatable, CustomStringConvertible {
  public var message: String

  public init(_ message: String) {
    self.message = message
  }

  public var description: String { message }
}
