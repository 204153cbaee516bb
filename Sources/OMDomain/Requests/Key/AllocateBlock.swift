import OMProto

/// AllocateBlock: would add a block to an open key. O3 has no data plane yet, so it checks the
/// session and answers with no block and the reason, rather than invent a block id.
enum AllocateBlock: OMWriteRequestHandler {
  static let noDataPlane =
    "no block allocated: O3 has no Storage Container Manager or Datanodes yet, so keys hold metadata only"

  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  {
    try RequestValidation.keyAddress(request.allocateBlockRequest.keyArgs, limits: limits)
    return request
  }

  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse {
    let arguments = request.allocateBlockRequest.keyArgs
    let clientID = request.allocateBlockRequest.clientID
    _ = try KeyRequestSupport.bucket(arguments.volumeName, arguments.bucketName, in: transaction)
    guard
      try transaction.openKey(arguments.volumeName, arguments.bucketName, arguments.keyName, clientID: clientID) != nil
    else {
      throw OMException(.keyNotFound, "no open key \(arguments.keyName) with session \(clientID)")
    }
    var response = AllocateBlockResponse()
    response.noBlockReason = noDataPlane
    return .success(.allocateBlock, .allocateBlockResponse(response))
  }
}
