import RaftCore

/// The ground truth the simulator checks every node against, kept incrementally so that each
/// check costs what the event changed, not the size of the logs.
///
/// * Election safety: the first leader seen in a term owns it.
/// * Log matching: an (index, term) pair names one payload and one previous term; by induction
///   two logs that share an (index, term) then share the whole prefix (paper §5.3).
/// * State machine safety: the reference sequence is the first entry applied at each index;
///   every later application must agree, and reach the same state digest.
/// * Commit records: what each index committed to, and the term in which that was first
///   reported (an upper bound on the term it committed in, so leader completeness is checked
///   only where it must hold).
struct SafetyOracle {
  private struct EntryIdentity: Equatable {
    var payloadHash: UInt64
    var kind: EntryKind
    var previousTerm: UInt64
  }

  /// What a client command did when it was first applied anywhere.
  struct FirstApplication {
    var time: UInt64
    var output: KeyValueOutput
  }

  private var leaderOfTerm: [UInt64: PeerID] = [:]
  private var entryIdentities: [TermIndex: EntryIdentity] = [:]
  /// The reference sequence: terms and state digests after each index, 1-based in index.
  private(set) var referenceTerms: [UInt64] = [0]
  private var referenceDigests: [UInt64] = [0]
  private(set) var reference: KeyValueStateMachine
  private(set) var firstApplications: [ClientCommandKey: FirstApplication] = [:]
  /// Per committed index: the entry's term and the reporter's term when first reported.
  private(set) var committedTerms: [UInt64] = [0]
  private var commitReportTerms: [UInt64] = [0]
  /// Per node: leader completeness verified through this committed index in this term.
  private var completenessVerified: [PeerID: (term: UInt64, index: UInt64)] = [:]

  init(initialMembership: Membership) {
    reference = KeyValueStateMachine(membership: initialMembership)
  }

  var referenceLastIndex: UInt64 { UInt64(referenceTerms.count - 1) }
  var committedLastIndex: UInt64 { UInt64(committedTerms.count - 1) }

  mutating func observeLeader(_ peer: PeerID, term: UInt64) throws(SimulationViolation) {
    if let owner = leaderOfTerm[term], owner != peer {
      throw SimulationViolation(.electionSafety, "peers \(owner) and \(peer) both led term \(term)")
    }
    leaderOfTerm[term] = peer
  }

  /// Registers entries just written to `storage` (already holding them).
  mutating func observeWritten(
    _ entries: [LogEntry], in storage: MemoryRaftStorage, by peer: PeerID
  ) throws(SimulationViolation)
  {
    for entry in entries where entry.index >= storage.firstIndex {
      let previousTerm = (try? storage.term(at: entry.index - 1)) ?? 0
      let identity = EntryIdentity(
        payloadHash: TraceHash.of(entry.data), kind: entry.kind, previousTerm: previousTerm)
      if let known = entryIdentities[entry.termIndex] {
        guard known == identity else {
          throw SimulationViolation(
            .logMatching,
            "peer \(peer) wrote \(entry.termIndex) after term \(previousTerm) with payload "
              + "\(identity.payloadHash), but another log has it after term \(known.previousTerm) "
              + "with payload \(known.payloadHash)")
        }
      } else {
        entryIdentities[entry.termIndex] = identity
      }
    }
  }

  /// A node applied `entry`, its state machine now summarised by `digest`.
  mutating func observeApplied(
    _ entry: LogEntry, digest: UInt64, output: (ClientCommand, KeyValueOutput)?, by peer: PeerID,
    at time: UInt64
  ) throws(SimulationViolation) {
    let index = Int(entry.index)
    if index == referenceTerms.count {
      let result = reference.apply(entry)
      referenceTerms.append(entry.term)
      referenceDigests.append(reference.digest)
      if let (command, output) = result {
        firstApplications[ClientCommandKey(command)] = FirstApplication(time: time, output: output)
      }
    }
    guard index < referenceTerms.count else {
      throw SimulationViolation(
        .stateMachineSafety, "peer \(peer) applied \(entry.termIndex) past the reference end")
    }
    guard referenceTerms[index] == entry.term, referenceDigests[index] == digest else {
      throw SimulationViolation(
        .stateMachineSafety,
        "peer \(peer) applied \(entry.termIndex) reaching digest \(digest); the first node to "
          + "apply index \(index) applied term \(referenceTerms[index]) reaching digest "
          + "\(referenceDigests[index])")
    }
  }

  /// A node installed `checkpoint`; it must equal the reference state at its index.
  func observeInstalled(_ checkpoint: StateMachineCheckpoint, by peer: PeerID)
    throws(SimulationViolation)
  {
    let index = Int(checkpoint.applied.index)
    guard index < referenceTerms.count, referenceTerms[index] == checkpoint.applied.term,
      referenceDigests[index] == checkpoint.digest
    else {
      throw SimulationViolation(
        .checkpointMismatch,
        "peer \(peer) installed a checkpoint at \(checkpoint.applied) with digest "
          + "\(checkpoint.digest) that no applied sequence reached")
    }
  }

  /// `peer` reported commit `commit` in `term`; records newly committed indexes and returns
  /// them, so the caller can check where they are durable.
  mutating func observeCommit(
    _ commit: UInt64, term: UInt64, in storage: MemoryRaftStorage, by peer: PeerID
  ) throws(SimulationViolation) -> ClosedRange<UInt64>? {
    let firstNew = committedLastIndex + 1
    guard commit >= firstNew else { return nil }
    for index in firstNew...commit {
      let entryTerm: UInt64
      if let held = try? storage.term(at: index) {
        entryTerm = held
      } else if index < UInt64(referenceTerms.count) {
        entryTerm = referenceTerms[Int(index)]
      } else {
        throw SimulationViolation(
          .logMatching, "peer \(peer) reports commit \(commit) but does not hold index \(index)")
      }
      committedTerms.append(entryTerm)
      commitReportTerms.append(term)
    }
    return firstNew...commit
  }

  /// A leader of `term` whose log is `storage` must hold every entry committed in an earlier
  /// term.
  mutating func checkCompleteness(of peer: PeerID, term: UInt64, storage: MemoryRaftStorage)
    throws(SimulationViolation)
  {
    var verified = completenessVerified[peer] ?? (term, 0)
    if verified.term != term { verified = (term, 0) }
    var index = max(verified.index, storage.snapshot.last.index) + 1
    while index <= committedLastIndex {
      if commitReportTerms[Int(index)] < term {
        guard let held = try? storage.term(at: index), held == committedTerms[Int(index)] else {
          throw SimulationViolation(
            .leaderCompleteness,
            "leader \(peer) of term \(term) lacks \(committedTerms[Int(index)])/\(index), "
              + "committed by term \(commitReportTerms[Int(index)])")
        }
      }
      index += 1
    }
    completenessVerified[peer] = (term, committedLastIndex)
  }
}

/// Identifies a client command across the cluster.
struct ClientCommandKey: Hashable, Sendable {
  var clientID: UInt64
  var operationID: UInt64

  init(_ command: ClientCommand) {
    clientID = command.clientID
    operationID = command.operationID
  }

  init(clientID: UInt64, operationID: UInt64) {
    self.clientID = clientID
    self.operationID = operationID
  }
}
