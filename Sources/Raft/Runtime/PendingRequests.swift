import Foundation
import RaftCore
import Synchronization

/// Proposals waiting for their entry to be applied, and reads waiting for their read index and
/// then for the apply to reach it.
final class PendingRequests: Sendable {
  private struct State {
    var proposals: [UInt64: (term: UInt64, waiter: ProposalWaiter, deadline: UInt64)] = [:]
    var reads: [UInt64: PendingRead] = [:]
    var nextReadID: UInt64 = 1
  }

  private struct PendingRead {
    var request: [UInt8]
    var waiter: ReadWaiter
    var deadline: UInt64
    /// Known once the leader has confirmed its leadership for this read.
    var index: UInt64?
  }

  private let state = Mutex(State())
  /// Times the deadlines (`RaftServerConfiguration.clock`).
  private let clock: any RaftClock

  init(clock: any RaftClock) {
    self.clock = clock
  }

  // MARK: proposals

  func addProposal(at position: TermIndex, timeoutMilliseconds: Int, _ waiter: @escaping ProposalWaiter) {
    let deadline = clock.deadline(afterMilliseconds: timeoutMilliseconds)
    state.withLock { $0.proposals[position.index] = (position.term, waiter, deadline) }
  }

  /// An entry was applied: completes the proposal that placed it, or fails the one that
  /// expected its own entry at this index.
  func applied(_ position: TermIndex, response: [UInt8]) {
    guard let proposal = state.withLock({ $0.proposals.removeValue(forKey: position.index) }) else { return }
    proposal.waiter(proposal.term == position.term ? .success(response) : .failure(.notCommitted))
  }

  // MARK: reads

  /// Registers a read and returns the context that identifies it in the core's read states.
  func addRead(request: [UInt8], waiter: @escaping ReadWaiter, timeoutMilliseconds: Int) -> [UInt8] {
    let id = state.withLock { state in
      let id = state.nextReadID
      state.nextReadID += 1
      state.reads[id] = PendingRead(
        request: request, waiter: waiter, deadline: clock.deadline(afterMilliseconds: timeoutMilliseconds))
      return id
    }
    return Self.context(id)
  }

  func failRead(context: [UInt8], _ error: RaftServerError) {
    guard let id = Self.id(context), let read = state.withLock({ $0.reads.removeValue(forKey: id) }) else { return }
    read.waiter(.failure(error))
  }

  /// The leader confirmed the read at `index`; it runs once the apply reaches it.
  func readIndexKnown(context: [UInt8], index: UInt64) {
    guard let id = Self.id(context) else { return }
    state.withLock { $0.reads[id]?.index = index }
  }

  /// The reads whose index the apply has reached, removed from the pending set.
  func readsReady(appliedIndex: UInt64) -> [(request: [UInt8], waiter: ReadWaiter)] {
    state.withLock { state in
      let ready = state.reads.filter { $0.value.index.map { $0 <= appliedIndex } ?? false }
      for id in ready.keys { state.reads[id] = nil }
      return ready.sorted { $0.key < $1.key }.map { (request: $0.value.request, waiter: $0.value.waiter) }
    }
  }

  /// Fails reads and proposals past their deadline: the core drops reads silently when it steps
  /// down, and a proposal whose index this peer never applies (it left the group) would wait
  /// forever. A timed-out proposal may still commit.
  func expire(now: UInt64) {
    let expired = state.withLock { state in
      let reads = state.reads.filter { $0.value.deadline <= now }
      for id in reads.keys { state.reads[id] = nil }
      let proposals = state.proposals.filter { $0.value.deadline <= now }
      for index in proposals.keys { state.proposals[index] = nil }
      return reads.values.map(\.waiter) + proposals.values.map(\.waiter)
    }
    for waiter in expired { waiter(.failure(.timeout)) }
  }

  /// Fails every pending read (this peer stopped leading).
  func failReads(_ error: RaftServerError) {
    let reads = state.withLock { state in
      defer { state.reads = [:] }
      return Array(state.reads.values.map(\.waiter))
    }
    for waiter in reads { waiter(.failure(error)) }
  }

  func failAll(_ error: RaftServerError) {
    let (proposals, reads) = state.withLock { state in
      let taken = (state.proposals.values.map(\.waiter), state.reads.values.map(\.waiter))
      state.proposals = [:]
      state.reads = [:]
      return taken
    }
    for waiter in proposals { waiter(.failure(error)) }
    for waiter in reads { waiter(.failure(error)) }
  }

  private static func context(_ id: UInt64) -> [UInt8] {
    withUnsafeBytes(of: id.bigEndian) { Array($0) }
  }

  private static func id(_ context: [UInt8]) -> UInt64? {
    guard context.count == 8 else { return nil }
    return context.reduce(0) { $0 << 8 | UInt64($1) }
  }
}
