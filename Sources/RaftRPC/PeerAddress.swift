/// Where a peer's Raft RPC server listens: `host:port`, with an IPv6 host in brackets
/// (`[::1]:9872`).
struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
  var host: String
  var port: Int

  /// Parses `text`, or returns nil when it is not `host:port` with a port in 1...65535.
  init?(parsing text: String) {
    guard let colon = text.lastIndex(of: ":") else { return nil }
    var host = Substring(text[..<colon])
    guard let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
      return nil
    }
    if host.hasPrefix("[") {
      guard host.hasSuffix("]") else { return nil }
      host = host.dropFirst().dropLast()
    } else if host.contains(":") {
      // An IPv6 address without brackets is ambiguous: its last group could be the port.
      return nil
    }
    guard !host.isEmpty else { return nil }
    self.host = String(host)
    self.port = port
  }

  var description: String {
    host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
  }
}
