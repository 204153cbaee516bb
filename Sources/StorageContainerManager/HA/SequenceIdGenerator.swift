import Foundation
import SCMDomain
import SCMProto
import Synchronization

/// Hands out ids of SCM's sequences (block local ids, container ids, …) on the leader, a batch at
/// a time (Ozone's SequenceIdGenerator, `ozone.scm.sequence.id.batch.size`, 1000).
///
/// A batch is taken through Raft as a compare-and-swap of the sequence's last id, so a batch
/// belongs to exactly one proposer: no id is ever handed out twice, whichever SCM leads and
/// however often leadership moves. Ids of a batch a leader did not use are skipped, never reused.
/// A new leader drops what it held (`invalidate`), so its ids continue above every earlier one.
public final class SequenceIdGenerator: Sendable {
  public typealias Proposer = @Sendable (SCMRatisRequest) async throws(SCMServiceError) -> SCMRatisResponse

  private let batchSize: UInt64
  private let stateMachine: SCMStateMachine
  private let propose: Proposer
  /// The ids left in each sequence's current batch.
  private let batches = Mutex<[SequenceName: ClosedRange<UInt64>]>([:])

  init(batchSize: UInt64, stateMachine: SCMStateMachine, propose: @escaping Proposer) {
    precondition(batchSize > 0, "a batch holds at least one id")
    self.batchSize = batchSize
    self.stateMachine = stateMachine
    self.propose = propose
  }

  /// The next id of `sequence`.
  ///
  /// - Throws: `SCMServiceError` when this SCM cannot take a batch (not the leader, Raft refused or
  ///   timed out), or when other proposers kept winning the swap.
  public func next(_ sequence: SequenceName) async throws(SCMServiceError) -> UInt64 {
    for _ in 0..<Self.attemptsMax {
      if let id = take(sequence) { return id }
      let expected = stateMachine.lastID(sequence)
      var request = SCMRatisRequest()
      request.allocateBatch.sequenceName = sequence.rawValue
      request.allocateBatch.expectedLastID = expected
      request.allocateBatch.newLastID = expected + batchSize
      let response = try await propose(request)
      guard response.status == .ok else { throw SCMServiceError(response.status, response.message) }
      if response.swapped {
        batches.withLock { $0[sequence] = (expected + 1)...(expected + batchSize) }
      }
    }
    throw SCMServiceError(.internalError, "could not take a batch of \(sequence.rawValue) ids in \(Self.attemptsMax) attempts")
  }

  /// Forgets every batch held: called when this SCM becomes leader.
  public func invalidate() {
    batches.withLock { $0 = [:] }
  }

  static let attemptsMax = 16

  private func take(_ sequence: SequenceName) -> UInt64? {
    batches.withLock { batches in
      guard let range = batches[sequence] else { return nil }
      batches[sequence] = range.lowerBound < range.upperBound ? (range.lowerBound + 1)...range.upperBound : nil
      return range.lowerBound
    }
  }
}
