import RaftCore

/// One scenario command line split into its command, positional arguments and key=value
/// options; every argument must be used, so that a typo fails the test.
struct Arguments {
  let command: String
  var positional: [String]
  private var options: [String: String]
  private var used: Set<String> = []

  init(_ line: String) {
    let tokens = line.split(separator: " ").map(String.init)
    command = tokens.first ?? ""
    positional = tokens.dropFirst().filter { !$0.contains("=") || $0.hasPrefix("/") }
    options = Dictionary(
      tokens.dropFirst().filter { $0.contains("=") }.map { token in
        let parts = token.split(separator: "=", maxSplits: 1).map(String.init)
        return (parts[0], parts.count > 1 ? parts[1] : "")
      }, uniquingKeysWith: { _, last in last })
  }

  mutating func string(_ position: Int) throws(ScenarioError) -> String {
    guard position < positional.count else {
      throw ScenarioError("\(command): missing argument \(position + 1)")
    }
    used.insert("#\(position)")
    return positional[position]
  }

  mutating func integer(_ position: Int) throws(ScenarioError) -> Int {
    let token = try string(position)
    guard let value = Int(token) else { throw ScenarioError("\(command): '\(token)' is not a number") }
    return value
  }

  mutating func peer(_ position: Int) throws(ScenarioError) -> PeerID {
    let value = try integer(position)
    guard value > 0 else { throw ScenarioError("\(command): peer ids start at 1") }
    return PeerID(UInt64(value))
  }

  /// Every positional argument, as peers.
  mutating func allPeers() throws(ScenarioError) -> [PeerID] {
    var peers: [PeerID] = []
    for position in positional.indices { peers.append(try peer(position)) }
    return peers
  }

  mutating func flag(_ name: String) -> Bool {
    guard let position = positional.firstIndex(of: name) else { return false }
    positional.remove(at: position)
    return true
  }

  mutating func option(_ name: String) -> String? {
    used.insert(name)
    return options[name]
  }

  mutating func integerOption(_ name: String) throws(ScenarioError) -> Int? {
    guard let token = option(name) else { return nil }
    guard let value = Int(token) else { throw ScenarioError("\(command): \(name)=\(token) is not a number") }
    return value
  }

  mutating func bool(_ name: String) throws(ScenarioError) -> Bool? {
    guard let token = option(name) else { return nil }
    guard let value = Bool(token) else { throw ScenarioError("\(command): \(name)=\(token) is not true/false") }
    return value
  }

  mutating func peerOption(_ name: String) throws(ScenarioError) -> PeerID? {
    guard let value = try integerOption(name) else { return nil }
    guard value > 0 else { throw ScenarioError("\(command): peer ids start at 1") }
    return PeerID(UInt64(value))
  }

  /// A list like `(1,2,3)`.
  mutating func peerList(_ name: String) throws(ScenarioError) -> [PeerID]? {
    guard let token = option(name) else { return nil }
    let inner = token.trimmingCharacters(in: "()")
    if inner.isEmpty { return [] }
    var peers: [PeerID] = []
    for part in inner.split(separator: ",") {
      guard let value = UInt64(part), value > 0 else { throw ScenarioError("\(command): bad peer list \(token)") }
      peers.append(PeerID(value))
    }
    return peers
  }

  func checkAllUsed() throws(ScenarioError) {
    for key in options.keys.sorted() where !used.contains(key) {
      throw ScenarioError("\(command): unknown option \(key)")
    }
    for position in positional.indices where !used.contains("#\(position)") {
      throw ScenarioError("\(command): unexpected argument '\(positional[position])'")
    }
  }
}

extension String {
  fileprivate func trimmingCharacters(in characters: String) -> String {
    var result = Substring(self)
    while let first = result.first, characters.contains(first) { result.removeFirst() }
    while let last = result.last, characters.contains(last) { result.removeLast() }
    return String(result)
  }
}
