import OMDomain
import OMProto
import OzoneManager

/// What the OM must answer a payload, worked out here from the bytes alone with the same public
/// checks the server runs before Raft (decode, envelope, preExecute).
///
/// A payload these checks refuse never reaches the log: the OM must answer exactly this status,
/// and neither its log nor its tables may change. Any other payload may succeed or be refused
/// by apply (a missing volume, a quota), which depends on the state the fuzzer does not model.
enum OMRequestOracle {
  enum Verdict: Equatable {
    /// Refused before the log with this status.
    case refused(Status)
    /// Passes every check before the log; `isWrite` tells whether it goes through Raft.
    case admissible(isWrite: Bool)
  }

  static func verdict(for payload: [UInt8], limits: OMRequestLimits = OMRequestLimits()) -> Verdict {
    guard let request = try? OMRequest(serializedBytes: payload) else { return .refused(.invalidRequest) }
    do {
      try OMRequestRouter.checkEnvelope(request)
    } catch {
      return .refused(error.status)
    }
    guard OMRequestRouter.isWrite(request.cmdType) else { return .admissible(isWrite: false) }
    let context = PreExecuteContext(nowMilliseconds: 1_800_000_000_000, userName: "fuzzer", randomID: { 7 })
    do {
      _ = try OMRequestRouter.preExecute(request, context: context, limits: limits)
      return .admissible(isWrite: true)
    } catch {
      return .refused(error.status)
    }
  }
}
