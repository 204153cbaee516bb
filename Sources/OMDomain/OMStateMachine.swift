import Foundation
import OMMetadata
import OMProto
import SwiftProtobuf

/// Applies logged write requests in log order: the one apply path of every replica, fed with
/// the entries Raft commits (a single OM is a one-replica Raft group).
///
/// `apply` must be called from one thread at a time (the Raft apply thread), in increasing
/// index order. Nothing here reads a clock, opens a socket or knows Raft: what the leader
/// decided before logging is in the request, and the position is given.
public final class OMStateMachine: Sendable {
  public let store: OMMetadataStore
  public let doubleBuffer: OMDoubleBuffer
  /// Whether a Prepare has applied (writes refused until CancelPrepare).
  public let prepareState: OMPrepareState

  public init(store: OMMetadataStore, doubleBuffer: OMDoubleBuffer, prepareState: OMPrepareState = OMPrepareState()) {
    self.store = store
    self.doubleBuffer = doubleBuffer
    self.prepareState = prepareState
  }

  /// Applies one logged request: the response is final, the changes are in the table caches and
  /// queued for the flush (which may block here under back-pressure).
  ///
  /// A request that does not decode is refused the same way on every replica (INVALID_REQUEST)
  /// and still advances the applied index. A failure of the store is thrown: fail-stop.
  public func apply(_ requestBytes: [UInt8], at termIndex: TermIndex) throws -> OMResponse {
    try applyLogged(requestBytes, at: termIndex).response
  }

  /// `apply(_:at:)`, also returning the decoded request (nil when it did not decode).
  public func applyLogged(_ requestBytes: [UInt8], at termIndex: TermIndex) throws -> (request: OMRequest?, response: OMResponse) {
    let request: OMRequest
    do {
      request = try OMRequest(serializedBytes: requestBytes)
    } catch {
      doubleBuffer.add(OMBatchPart(), termIndex: termIndex)
      return (nil, .failure(.unspecified, OMException(.invalidRequest, "the logged request does not decode: \(error)")))
    }
    return (request, try apply(request, at: termIndex))
  }

  /// Applies one already-decoded logged request (see `apply(_:at:)`).
  public func apply(_ request: OMRequest, at termIndex: TermIndex) throws -> OMResponse {
    if let answered = PrepareRequests.apply(request, at: termIndex, state: prepareState, doubleBuffer: doubleBuffer) {
      return answered
    }
    let transaction = OMTransaction(index: termIndex.index, term: termIndex.term, store: store)
    let (response, part) = try OMRequestRouter.apply(request, transaction: transaction)
    store.applyToCache(part, epoch: termIndex.index)
    doubleBuffer.add(part, termIndex: termIndex)
    return response
  }
}
