import Foundation
import OMMetadata
import OMProto

/// Orders writes for an OM running without Raft: assigns log indexes itself, applies on one
/// thread, and answers only once the write's batch is synced to RocksDB (Ozone's non-HA rule).
///
/// The apply path is the state machine's, the one Raft will drive for HA.
public final class SingleReplicaSubmitter: @unchecked Sendable {
  // @unchecked: `nextIndex` is touched only on `applyQueue`, a serial queue.
  private let stateMachine: OMStateMachine
  private let applyQueue = DispatchQueue(label: "om-apply")
  private var nextIndex: UInt64
  private let onFatalError: @Sendable (Error) -> Void

  /// Without Raft there are no terms; term 0 marks indexes assigned by a single OM.
  public static let term: UInt64 = 0

  public init(stateMachine: OMStateMachine, onFatalError: @escaping @Sendable (Error) -> Void) throws {
    self.stateMachine = stateMachine
    self.nextIndex = try stateMachine.store.transactionInfo().index + 1
    self.onFatalError = onFatalError
  }

  /// Applies a prepared write and calls `completion` once it is durable.
  public func submit(_ request: OMRequest, completion: @escaping @Sendable (OMResponse) -> Void) {
    applyQueue.async { [self] in
      let termIndex = TermIndex(term: Self.term, index: nextIndex)
      nextIndex += 1
      let response: OMResponse
      do {
        response = try stateMachine.apply(request, at: termIndex)
      } catch {
        onFatalError(error)
        return
      }
      stateMachine.doubleBuffer.whenFlushed(termIndex.index) { completion(response) }
    }
  }

  /// Waits until every write submitted so far has been applied.
  public func drain() {
    applyQueue.sync {}
  }
}
