#if canImport(Glibc)
  import Glibc
#endif

/// Ports for servers a test restarts: below Linux's ephemeral range (32768 and up), so that no
/// outgoing connection of this machine takes one while its server is down between two lives.
public enum FreePorts {
  /// The range ports are drawn from.
  public static let range = 20_000..<32_000

  /// `count` distinct ports that are free on 127.0.0.1 now (another process may still take one
  /// before it is bound: a small race the caller accepts).
  public static func allocate(_ count: Int) throws -> [Int] {
    var chosen: [Int] = []
    for _ in 0..<(count * 200) where chosen.count < count {
      let port = Int.random(in: range)
      if !chosen.contains(port) && isFree(port) { chosen.append(port) }
    }
    guard chosen.count == count else { throw ManagedProcessError("found only \(chosen.count) of \(count) free ports") }
    return chosen
  }

  /// Whether a TCP listener could bind `port` on 127.0.0.1 now.
  public static func isFree(_ port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
  }
}
