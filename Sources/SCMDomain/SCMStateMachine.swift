import Foundation
import LogPosition
import SCMMetadata
import SCMProto
import SwiftProtobuf
import Synchronization

/// SCM's replicated state and how an entry changes it: every SCM applies the same entries in log
/// order and reaches the same state. No clock, network or Raft here: what the leader decided
/// (ids, times) arrives in the request.
///
/// Called from the one apply thread; the reads (`lastID`) may come from any thread.
public final class SCMStateMachine: Sendable {
  private let store: SCMMetadataStore
  private let state: Mutex<State>

  private struct State {
    /// Every sequence's last id handed out in a batch, as applied.
    var lastIDs: [SequenceName: UInt64]
    var applied: TermIndex
  }

  /// Loads the applied state from `store`.
  public init(store: SCMMetadataStore) throws {
    self.store = store
    var lastIDs: [SequenceName: UInt64] = [:]
    for name in SequenceName.allCases { lastIDs[name] = try store.lastID(of: name.rawValue) }
    state = Mutex(State(lastIDs: lastIDs, applied: try store.transactionInfo()))
  }

  /// The position of the last applied entry.
  public var applied: TermIndex { state.withLock { $0.applied } }

  /// The last id of `sequence` handed out in a batch, as applied here.
  public func lastID(_ sequence: SequenceName) -> UInt64 { state.withLock { $0.lastIDs[sequence] ?? 0 } }

  /// Applies one entry's request and writes its effects and position to scm.db.
  ///
  /// A request that is malformed or refused changes nothing but the recorded position, and its
  /// answer says why. A database write that fails throws: the replica must stop.
  public func apply(_ requestBytes: [UInt8], at position: TermIndex) throws -> SCMRatisResponse {
    let (response, changes) = decide(requestBytes)
    try store.apply(changes, at: position)
    state.withLock { state in
      for (name, lastID) in changes.sequenceLastIDs {
        if let sequence = SequenceName(rawValue: name) { state.lastIDs[sequence] = lastID }
      }
      state.applied = position
    }
    return response
  }

  /// Records that the entry at `position` was applied though it carries no request (the leader's
  /// first entry of a term, a membership change), so the database's position follows the log.
  public func skip(at position: TermIndex) throws {
    try store.apply(SCMChanges(), at: position)
    state.withLock { $0.applied = position }
  }

  /// The answer to `requestBytes` and what it changes, from the state as applied so far.
  private func decide(_ requestBytes: [UInt8]) -> (SCMRatisResponse, SCMChanges) {
    let request: SCMRatisRequest
    do {
      request = try SCMRatisRequest(serializedBytes: requestBytes)
    } catch {
      return (.refused(.internalError, "the entry is not an SCM request: \(error)"), SCMChanges())
    }
    switch request.request {
    case .allocateBatch(let batch):
      return allocateBatch(batch)
    case nil:
      return (.refused(.unsupportedOperation, "the entry carries no request this SCM knows"), SCMChanges())
    }
  }

  /// Ozone's SequenceIdGenerator.allocateBatch: moves the sequence's last id from `expectedLastId`
  /// to `newLastId` if it is still `expectedLastId`, so that two leaders (an old one that has not
  /// heard of the new) can never hand out the same range.
  private func allocateBatch(_ batch: SCMAllocateBatch) -> (SCMRatisResponse, SCMChanges) {
    guard let sequence = SequenceName(rawValue: batch.sequenceName) else {
      return (.refused(.unsupportedOperation, "no sequence is named '\(batch.sequenceName)'"), SCMChanges())
    }
    guard batch.newLastID > batch.expectedLastID else {
      return (
        .refused(.internalError, "a batch of \(sequence.rawValue) must move its last id forward (\(batch.expectedLastID) → \(batch.newLastID))"),
        SCMChanges()
      )
    }
    let current = lastID(sequence)
    guard current == batch.expectedLastID else {
      var response = SCMRatisResponse()
      response.status = .ok
      response.swapped = false
      response.message = "\(sequence.rawValue): expected last id \(batch.expectedLastID), actual \(current)"
      return (response, SCMChanges())
    }
    var response = SCMRatisResponse()
    response.status = .ok
    response.swapped = true
    return (response, SCMChanges(sequenceLastIDs: [sequence.rawValue: batch.newLastID]))
  }
}

extension SCMRatisResponse {
  /// A refusal with Ozone's status and the reason.
  public static func refused(_ status: SCMStatus, _ message: String) -> SCMRatisResponse {
    var response = SCMRatisResponse()
    response.status = status
    response.message = message
    return response
  }
}
