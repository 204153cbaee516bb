import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Ports for the servers tests start, handed out once per test process.
///
/// Drawn from below Linux's ephemeral range (32768 and up), where the kernel never picks a port on
/// its own: a port taken from `bind(0)` and released could go to another test's listener or
/// outgoing connection before the server binds it, and no outgoing connection takes one while its
/// server is down between two lives.
///
/// Every test target runs in one process, so one registry keeps the tests from handing each other
/// the same port: a port a test reserved for a server it starts later (a fourth OM that joins a
/// minute in) stays its own even though it is free on the machine until then. Another process may
/// still bind one first; that small race the caller accepts.
public enum FreePorts {
  /// The range ports are drawn from.
  public static let range = 20_000..<32_000

  /// `count` distinct ports that are free on 127.0.0.1 now and were never handed out before.
  public static func allocate(_ count: Int) throws -> [Int] {
    var chosen: [Int] = []
    for _ in 0..<(count * 200) where chosen.count < count {
      if let port = reserve({ [$0] }) { chosen.append(port) }
    }
    guard chosen.count == count else { throw ManagedProcessError("found only \(chosen.count) of \(count) free ports") }
    return chosen
  }

  /// A base port whose ports `ports(base)` are all free now and never handed out before; they are
  /// then handed out (e.g. the fixed offsets of `o3 local --base-port`).
  public static func allocateBase(spanning ports: (Int) throws -> [Int]) throws -> Int {
    for _ in 0..<200 {
      if let base = try reserve(ports) { return base }
    }
    throw ManagedProcessError("no base port whose ports are all free")
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

  /// Tries one random base: its ports are taken when none was handed out and all are free.
  private static func reserve(_ ports: (Int) throws -> [Int]) rethrows -> Int? {
    let base = Int.random(in: range)
    let wanted = Set(try ports(base))
    return try handedOut.withLock { taken -> Int? in
      guard taken.isDisjoint(with: wanted), wanted.allSatisfy(isFree) else { return nil }
      taken.formUnion(wanted)
      return base
    }
  }

  private static let handedOut = Mutex<Set<Int>>([])
}
