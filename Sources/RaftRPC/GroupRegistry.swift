import Raft
import RaftCore

/// The Raft groups one endpoint hosts, and who is a member of which: the rules of inbound
/// delivery and of unreachable reports, without locks or sockets (``TransportContext`` keeps it
/// behind a lock; the endpoint and the inbound handler act on what it answers).
///
/// A group is registered when its transport handle is made, started when its Raft server installs
/// its handlers, and unregistered when it shuts down. Its members are the peers given to its
/// `setAddress` and not removed since: the only senders whose messages it accepts. A peer is
/// known to the endpoint while at least one group lists it; a batch from a peer no group lists
/// is refused as a whole, as a single-group transport always did.
struct GroupRegistry {
  /// What a started group gave its transport.
  struct Handlers: Sendable {
    var receive: @Sendable ([RaftMessage]) -> Void
    var onUnreachable: @Sendable (PeerID) -> Void
  }

  struct Entry {
    var members: Set<PeerID> = []
    /// Peers the group sent to: told of their failure episodes like members, since the core of a
    /// group sends to every peer of its membership, addressed or not (a peer with no known
    /// address is unreachable too, and the core must hear of it).
    var recipients: Set<PeerID> = []
    /// Nil until the group starts: messages for it are dropped as for an unknown group.
    var handlers: Handlers?
    var statistics = RaftRPCGroupStatistics()
  }

  /// What became of `join`.
  enum JoinResult {
    /// The group is not registered (it shut down): nothing changed.
    case notRegistered
    case alreadyMember
    /// The peer is a member now; the handlers are the group's if it has started.
    case joined(Handlers?)
  }

  /// What to do with one inbound batch.
  enum Admission {
    /// No group lists the sender: refuse the whole batch.
    case stranger
    case accepted(Accepted)
  }

  /// The parts of an accepted batch: what to deliver and what was dropped.
  struct Accepted {
    var deliveries: [(receive: @Sendable ([RaftMessage]) -> Void, messages: [RaftMessage])] = []
    var messagesDelivered = 0
    var messagesForUnknownGroup = 0
    var messagesFromNonMember = 0
    /// Groups this sender's messages named for the first time while not hosted: warn once.
    var newlyUnknownGroups: [RaftGroupID] = []
  }

  /// How many (sender, unknown group) pairs are remembered for warning once each; beyond it
  /// nothing more is warned (the counters still count), so a confused peer cannot grow memory.
  static let unknownGroupWarningsMax = 1024

  private(set) var entries: [RaftGroupID: Entry] = [:]
  /// For each peer, how many registered groups list it.
  private var membershipCounts: [PeerID: Int] = [:]
  private var warnedUnknownGroups: Set<SenderAndGroup> = []

  private struct SenderAndGroup: Hashable {
    var sender: PeerID
    var group: RaftGroupID
  }

  var groups: [RaftGroupID] { entries.keys.sorted() }

  /// Registers `group`; false when it already is.
  mutating func register(_ group: RaftGroupID) -> Bool {
    guard entries[group] == nil else { return false }
    entries[group] = Entry()
    return true
  }

  /// Forgets `group`; returns those of its members that no other group lists (their links can
  /// close), empty when it was not registered.
  mutating func unregister(_ group: RaftGroupID) -> Set<PeerID> {
    guard let entry = entries.removeValue(forKey: group) else { return [] }
    for member in entry.members { decrementCount(of: member) }
    return entry.members.filter { !lists($0) }
  }

  /// Installs a registered group's handlers; returns its members (nil when not registered).
  mutating func start(_ group: RaftGroupID, handlers: Handlers) -> Set<PeerID>? {
    guard entries[group] != nil else { return nil }
    entries[group]!.handlers = handlers
    return entries[group]!.members
  }

  /// Takes a group's handlers away again (its start failed): it stays registered.
  mutating func stopReceiving(_ group: RaftGroupID) {
    entries[group]?.handlers = nil
  }

  mutating func join(_ peer: PeerID, _ group: RaftGroupID) -> JoinResult {
    guard var entry = entries[group] else { return .notRegistered }
    guard entry.members.insert(peer).inserted else { return .alreadyMember }
    entries[group] = entry
    membershipCounts[peer, default: 0] += 1
    return .joined(entry.handlers)
  }

  /// Takes `peer` out of `group`; returns whether any group still lists it.
  mutating func leave(_ peer: PeerID, _ group: RaftGroupID) -> Bool {
    entries[group]?.recipients.remove(peer)
    if entries[group]?.members.remove(peer) != nil {
      decrementCount(of: peer)
    }
    return lists(peer)
  }

  /// Whether any registered group lists `peer`.
  func lists(_ peer: PeerID) -> Bool {
    membershipCounts[peer] != nil
  }

  /// Sorts one inbound batch from `sender` (already checked to hold only its messages) into
  /// deliveries and drops, and counts them.
  mutating func admit(_ runs: [GroupedMessages], from sender: PeerID) -> Admission {
    guard lists(sender) else { return .stranger }
    var accepted = Accepted()
    for run in runs {
      guard let handlers = entries[run.group]?.handlers else {
        accepted.messagesForUnknownGroup += run.messages.count
        let key = SenderAndGroup(sender: sender, group: run.group)
        if warnedUnknownGroups.count < Self.unknownGroupWarningsMax, warnedUnknownGroups.insert(key).inserted {
          accepted.newlyUnknownGroups.append(run.group)
        }
        continue
      }
      guard entries[run.group]!.members.contains(sender) else {
        accepted.messagesFromNonMember += run.messages.count
        continue
      }
      entries[run.group]!.statistics.messagesReceived += run.messages.count
      accepted.messagesDelivered += run.messages.count
      accepted.deliveries.append((handlers.receive, run.messages))
    }
    return .accepted(accepted)
  }

  /// A failure episode started for `peer`: the handlers of every started group that lists it or
  /// sent to it, each counted as told.
  mutating func unreachable(_ peer: PeerID) -> [@Sendable (PeerID) -> Void] {
    var handlers: [@Sendable (PeerID) -> Void] = []
    for (group, entry) in entries where entry.members.contains(peer) || entry.recipients.contains(peer) {
      guard let onUnreachable = entry.handlers?.onUnreachable else { continue }
      entries[group]!.statistics.unreachableReports += 1
      handlers.append(onUnreachable)
    }
    return handlers
  }

  /// Counts one group's report made outside an episode's start (a member added mid-episode).
  mutating func countUnreachableReport(_ group: RaftGroupID) {
    entries[group]?.statistics.unreachableReports += 1
  }

  /// `group` handed `messages` messages for `peers` to the transport.
  mutating func noteSubmitted(_ group: RaftGroupID, to peers: some Sequence<PeerID>, messages: Int) {
    guard entries[group] != nil else { return }
    entries[group]!.statistics.messagesSubmitted += messages
    entries[group]!.recipients.formUnion(peers)
  }

  var statistics: [RaftGroupID: RaftRPCGroupStatistics] {
    entries.mapValues(\.statistics)
  }

  private mutating func decrementCount(of peer: PeerID) {
    guard let count = membershipCounts[peer] else { return }
    membershipCounts[peer] = count > 1 ? count - 1 : nil
  }
}
