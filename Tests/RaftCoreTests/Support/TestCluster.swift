import RaftCore

/// A tiny in-test network of cores, each with in-memory storage and a list of applied entries
/// as its state machine. Messages wait in one FIFO queue until delivered, dropped, duplicated or
/// reordered on purpose; nothing happens unless a test asks for it.
struct TestCluster {
  /// One peer: its core (nil while crashed), its durable storage and its state machine.
  struct Peer {
    var node: RaftNode<MemoryRaftStorage>?
    var storage: MemoryRaftStorage
    var configuration: RaftConfiguration
    /// The entries the state machine applied, in order (durable: survives a crash).
    var applied: [LogEntry] = []
    /// The position the state machine reached by installing a checkpoint.
    var checkpoint: TermIndex = .zero
    var pendingNotice: SnapshotNotice?
    var randomSeed: UInt64

    var appliedIndex: UInt64 { max(applied.last?.index ?? 0, checkpoint.index) }
    var appliedPosition: TermIndex {
      guard let last = applied.last, last.index >= checkpoint.index else { return checkpoint }
      return last.termIndex
    }
  }

  private(set) var peers: [PeerID: Peer] = [:]

  /// Restarts `id` on `storage` instead of its own (to start from a crafted log).
  mutating func replaceStorage(of id: PeerID, with storage: MemoryRaftStorage) {
    var peer = peers[id]!
    peer.node = try! RaftNode(
      configuration: peer.configuration, storage: storage, random: SplitMix64Random(seed: peer.randomSeed))
    peers[id] = Peer(node: peer.node, storage: storage, configuration: peer.configuration, randomSeed: peer.randomSeed)
  }
  /// Messages sent and not yet delivered, oldest first.
  var inFlight: [RaftMessage] = []
  /// Groups that cannot reach each other; empty when the network is whole.
  var partitionGroups: [[PeerID]] = []

  var ids: [PeerID] { peers.keys.sorted() }

  func node(_ id: PeerID) -> RaftNode<MemoryRaftStorage> {
    guard let node = peers[id]?.node else { fatalError("peer \(id) is not running") }
    return node
  }

  func peer(_ id: PeerID) -> Peer { peers[id]! }

  /// Adds a running peer whose storage starts with `membership`.
  mutating func addPeer(_ id: PeerID, membership: Membership, configure: (inout RaftConfiguration) -> Void = { _ in }) {
    var configuration = RaftConfiguration(id: id)
    configure(&configuration)
    let storage = MemoryRaftStorage(membership: membership)
    let seed = id.rawValue &* 0x9E37_79B9
    let node = try! RaftNode(
      configuration: configuration, storage: storage, random: SplitMix64Random(seed: seed))
    peers[id] = Peer(node: node, storage: storage, configuration: configuration, randomSeed: seed)
  }

  /// Runs `body` on a peer's core.
  mutating func with<Result, Failure: Error>(
    _ id: PeerID, _ body: (inout RaftNode<MemoryRaftStorage>) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    guard peers[id]?.node != nil else { fatalError("peer \(id) is not running") }
    return try body(&peers[id]!.node!)
  }

  /// Handles one Ready of `id` the way a correct driver does: persist, send, apply, advance.
  /// Returns nil when there was nothing to do.
  @discardableResult
  mutating func processReady(_ id: PeerID) -> Ready? {
    guard var peer = peers[id], var node = peer.node, node.hasReady else { return nil }
    let ready = node.ready()
    peer.storage.save(ready)
    inFlight.append(contentsOf: ready.messages)
    peer.applied.append(contentsOf: ready.committedEntries)
    if let notice = ready.snapshotNotice { peer.pendingNotice = notice }
    node.advance()
    peer.node = node
    peers[id] = peer
    return ready
  }

  func canReach(_ from: PeerID, _ to: PeerID) -> Bool {
    guard !partitionGroups.isEmpty else { return true }
    return partitionGroups.contains { $0.contains(from) && $0.contains(to) }
  }

  /// Removes and returns the queued messages at `positions`, in queue order.
  mutating func take(positions: Set<Int>) -> [RaftMessage] {
    let taken = inFlight.indices.filter(positions.contains).map { inFlight[$0] }
    inFlight = inFlight.indices.filter { !positions.contains($0) }.map { inFlight[$0] }
    return taken
  }

  /// Delivers every queued message in order.
  @discardableResult
  mutating func deliverAll() -> (delivered: [RaftMessage], dropped: [RaftMessage]) {
    let messages = inFlight
    inFlight = []
    return deliver(messages)
  }

  /// Delivers `messages` in order, dropping those whose receiver is unreachable or down.
  @discardableResult
  mutating func deliver(_ messages: [RaftMessage]) -> (delivered: [RaftMessage], dropped: [RaftMessage]) {
    var delivered: [RaftMessage] = []
    var dropped: [RaftMessage] = []
    for message in messages {
      guard canReach(message.from, message.to), peers[message.to]?.node != nil else {
        dropped.append(message)
        continue
      }
      peers[message.to]!.node!.step(message)
      delivered.append(message)
    }
    return (delivered, dropped)
  }

  /// Processes Readies and delivers messages until nothing moves. Bounded, so that a livelock
  /// fails the test instead of hanging it.
  mutating func stabilize(roundsMax: Int = 1000) {
    for _ in 0..<roundsMax {
      var moved = false
      for id in ids where processReady(id) != nil { moved = true }
      if !inFlight.isEmpty {
        deliverAll()
        moved = true
      }
      if !moved { return }
    }
    fatalError("cluster did not stabilize in \(roundsMax) rounds")
  }

  /// Ticks every running peer (or the given ones) `count` times.
  mutating func tick(_ ids: [PeerID]? = nil, count: Int = 1) {
    for _ in 0..<count {
      for id in ids ?? self.ids where peers[id]?.node != nil { peers[id]!.node!.tick() }
    }
  }

  /// Loses the peer's volatile state; storage and state machine survive.
  mutating func crash(_ id: PeerID) {
    peers[id]!.node = nil
    peers[id]!.pendingNotice = nil
  }

  /// Starts the peer again from its storage and its state machine's applied index.
  mutating func restart(_ id: PeerID) {
    var peer = peers[id]!
    peer.configuration.appliedIndex = peer.appliedIndex
    peer.randomSeed &+= 1
    peer.node = try! RaftNode(
      configuration: peer.configuration, storage: peer.storage,
      random: SplitMix64Random(seed: peer.randomSeed))
    peers[id] = peer
  }

  /// The follower's state machine installs the checkpoint of `source` (its applied state) and
  /// tells its core, with the membership the checkpoint holds.
  mutating func installSnapshot(on id: PeerID, from source: PeerID) -> TermIndex {
    let position = peers[source]!.appliedPosition
    let applied = peers[source]!.applied.filter { $0.index <= position.index }
    peers[id]!.applied = applied
    peers[id]!.checkpoint = position
    peers[id]!.pendingNotice = nil
    peers[id]!.node!.snapshotInstalled(position, membership: Self.membership(after: applied))
    return position
  }

  /// The membership a state machine that applied `entries` (from index 1) holds.
  static func membership(after entries: [LogEntry]) -> Membership {
    var membership = Membership.empty
    for entry in entries where entry.kind == .membershipChange {
      membership = try! membership.applying(try! MembershipChange(decoding: entry.data))
    }
    return membership
  }

  /// The leader among running peers in the highest term, if any.
  var leader: PeerID? {
    ids.filter { peers[$0]?.node?.role == .leader }.max { node($0).term < node($1).term }
  }
}
