import OMMetadata
import OMProto

/// Prepare, CancelPrepare and PrepareStatus (Ozone's `OMPrepareRequest`,
/// `OMCancelPrepareRequest` and `getOzoneManagerPrepareStatus`), and the refusal of every other
/// write while prepared.
///
/// Prepare and CancelPrepare are logged like writes but not applied through `OMTransaction`:
/// Prepare waits for the double buffer, and both change `OMPrepareState`, which the apply of
/// every later entry reads.
public enum PrepareRequests {
  /// Longest `txnApplyWaitTimeoutSeconds` accepted: a day is past any sensible upgrade window.
  static let applyWaitTimeoutSecondsMax: UInt64 = 86_400

  /// Leader only, before logging.
  static func preExecute(_ request: OMRequest) throws(OMException) -> OMRequest {
    switch request.cmdType {
    case .prepare:
      let args = request.prepareRequest.args
      guard args.txnApplyWaitTimeoutSeconds <= applyWaitTimeoutSecondsMax else {
        throw OMException(
          .invalidRequest,
          "txnApplyWaitTimeoutSeconds is \(args.txnApplyWaitTimeoutSeconds); at most \(applyWaitTimeoutSecondsMax)")
      }
      return request
    case .cancelPrepare:
      return request
    default:
      throw OMException(.invalidRequest, "\(request.cmdType) is not a prepare command")
    }
  }

  /// Every replica, in log order: the answer to Prepare, CancelPrepare, or a write refused
  /// because this OM is prepared; nil for a write to apply as usual. Each answered entry still
  /// goes through the double buffer, so the flushed index advances over it.
  static func apply(
    _ request: OMRequest, at position: TermIndex, state: OMPrepareState, doubleBuffer: OMDoubleBuffer
  ) -> OMResponse? {
    switch request.cmdType {
    case .prepare:
      var part = OMBatchPart()
      part.meta = [TableChange(key: OMPrepareState.metaKey, value: Array("\(position.index)".utf8))]
      doubleBuffer.add(part, termIndex: position)
      // On the apply thread nothing else is added meanwhile, so this waits for exactly the
      // entries up to the Prepare. It cannot time out: a replica that gave up while the others
      // prepared would diverge from them; the flush either completes or stops the OM.
      doubleBuffer.awaitFlush()
      state.finishPrepare(at: position)
      var response = PrepareResponse()
      response.txnID = position.index
      return .success(.prepare, .prepareResponse(response))
    case .cancelPrepare:
      var part = OMBatchPart()
      part.meta = [TableChange(key: OMPrepareState.metaKey, value: nil)]
      doubleBuffer.add(part, termIndex: position)
      state.cancel(at: position)
      return .success(.cancelPrepare, .cancelPrepareResponse(CancelPrepareResponse()))
    default:
      guard state.refusesWhenApplying(request.cmdType) else { return nil }
      doubleBuffer.add(OMBatchPart(), termIndex: position)
      return state.refusal(request.cmdType)
    }
  }

  /// PrepareStatus, answered by each OM from its own state.
  public static func status(_ state: OMPrepareState) -> OMResponse {
    let (status, index) = state.status
    var response = PrepareStatusResponse()
    response.status = status
    response.currentTxnIndex = index
    return .success(.prepareStatus, .prepareStatusResponse(response))
  }
}
