import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Ozone-style configuration: `ozone-site.xml` properties plus command-line overrides.
///
/// Unknown keys are kept and ignored by whoever does not read them (Ozone does the same); a value
/// that cannot be parsed is an error naming the key, raised when the key is read.
public struct OzoneConfiguration: Sendable {
  private var values: [String: String]

  public init(_ values: [String: String] = [:]) {
    self.values = values
  }

  /// Reads a Hadoop configuration file (`<configuration><property><name>…</name><value>…</value>`).
  public init(contentsOf path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigurationError(key: nil, message: "cannot read configuration file \(path)")
    }
    self.values = try HadoopConfigurationParser.parse(data, source: path)
  }

  /// Loads `--conf FILE` if given, else `$OZONE_CONF_DIR/ozone-site.xml` if it exists, else nothing;
  /// then applies `key=value` overrides.
  public static func load(
    file: String?, overrides: [String], environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> OzoneConfiguration {
    var configuration = OzoneConfiguration()
    if let file {
      configuration = try OzoneConfiguration(contentsOf: file)
    } else if let directory = environment["OZONE_CONF_DIR"] {
      let path = (directory as NSString).appendingPathComponent("ozone-site.xml")
      if FileManager.default.fileExists(atPath: path) {
        configuration = try OzoneConfiguration(contentsOf: path)
      }
    }
    for override in overrides {
      try configuration.apply(override: override)
    }
    return configuration
  }

  /// Applies one `key=value` override from the command line.
  public mutating func apply(override: String) throws {
    guard let equals = override.firstIndex(of: "="), equals != override.startIndex else {
      throw ConfigurationError(key: nil, message: "--set expects key=value, got '\(override)'")
    }
    let key = String(override[..<equals]).trimmingCharacters(in: .whitespaces)
    values[key] = String(override[override.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
  }

  public subscript(key: String) -> String? {
    get { values[key] }
    set { values[key] = newValue }
  }

  /// Every key with its value, sorted by key (for writing a config file or printing one).
  public var allValues: [(key: String, value: String)] {
    values.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
  }

  public func string(_ key: String, default defaultValue: String) -> String {
    values[key].flatMap { $0.isEmpty ? nil : $0 } ?? defaultValue
  }

  public func integer(_ key: String, default defaultValue: Int) throws -> Int {
    guard let text = values[key], !text.isEmpty else { return defaultValue }
    guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
      throw ConfigurationError(key: key, message: "'\(text)' is not an integer")
    }
    return value
  }

  public func boolean(_ key: String, default defaultValue: Bool) throws -> Bool {
    guard let text = values[key], !text.isEmpty else { return defaultValue }
    switch text.lowercased() {
    case "true": return true
    case "false": return false
    default: throw ConfigurationError(key: key, message: "'\(text)' is not true or false")
    }
  }

  /// A size such as `64MB` (powers of 1024, Ozone's convention).
  public func bytes(_ key: String, default defaultValue: Int64) throws -> Int64 {
    guard let text = values[key], !text.isEmpty else { return defaultValue }
    do {
      return try StorageSize.parse(text)
    } catch let error as StorageSize.ParseError {
      throw ConfigurationError(key: key, message: error.message)
    }
  }

  /// A duration such as `5s`, `300ms`, `2m`; a bare number is in `defaultUnitMilliseconds`.
  public func milliseconds(_ key: String, default defaultValue: Int64, bareUnitMilliseconds: Int64 = 1)
    throws -> Int64
  {
    guard let text = values[key]?.trimmingCharacters(in: .whitespaces).lowercased(), !text.isEmpty else {
      return defaultValue
    }
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
    for (suffix, factor) in units where text.hasSuffix(suffix) {
      if let number = Int64(text.dropLast(suffix.count)), number >= 0 { return number * factor }
    }
    if let number = Int64(text), number >= 0 { return number * bareUnitMilliseconds }
    throw ConfigurationError(key: key, message: "'\(text)' is not a duration (examples: 500ms, 5s, 2m)")
  }

  /// `host:port`; a missing port takes `defaultPort`.
  public func hostAndPort(_ key: String, defaultHost: String, defaultPort: Int) throws -> HostAndPort {
    guard let text = values[key], !text.isEmpty else { return HostAndPort(host: defaultHost, port: defaultPort) }
    do {
      return try HostAndPort.parse(text, defaultPort: defaultPort)
    } catch let error as ConfigurationError {
      throw ConfigurationError(key: key, message: error.message)
    }
  }
}

/// A malformed configuration value or file.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
  public let key: String?
  public let message: String

  public init(key: String?, message: String) {
    self.key = key
    self.message = message
  }

  public var description: String {
    if let key { return "configuration key \(key): \(message)" }
    return "configuration: \(message)"
  }
}

/// A network address as configured (`om1.example.com:9862`, `[::1]:9862`).
public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
  public var host: String
  public var port: Int

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

  public static func parse(_ text: String, defaultPort: Int) throws -> HostAndPort {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    var host = trimmed
    var portText: Substring?
    if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
      host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
      let rest = trimmed[trimmed.index(after: close)...]
      if rest.hasPrefix(":") { portText = rest.dropFirst() }
    } else if let colon = trimmed.lastIndex(of: ":"), trimmed.firstIndex(of: ":") == colon {
      host = String(trimmed[..<colon])
      portText = trimmed[trimmed.index(after: colon)...]
    }
    guard !host.isEmpty else { throw ConfigurationError(key: nil, message: "'\(text)' has no host") }
    guard let portText else { return HostAndPort(host: host, port: defaultPort) }
    guard let port = Int(portText), (0...65535).contains(port) else {
      throw ConfigurationError(key: nil, message: "'\(text)' has an invalid port")
    }
    return HostAndPort(host: host, port: port)
  }
}
