import OMMetadata
import OMProto

/// Finds the handler of each command and runs the checks every request goes through.
public enum OMRequestRouter {
  private static let writeHandlers: [CommandType: any OMWriteRequestHandler.Type] = [
    .createVolume: CreateVolume.self, .setVolumeProperty: SetVolumeProperty.self, .deleteVolume: DeleteVolume.self,
    .createBucket: CreateBucket.self, .setBucketProperty: SetBucketProperty.self, .deleteBucket: DeleteBucket.self,
    .createKey: CreateKey.self, .allocateBlock: AllocateBlock.self, .commitKey: CommitKey.self,
    .renameKey: RenameKey.self, .deleteKey: DeleteKey.self, .deleteKeys: DeleteKeys.self,
  ]

  private static let readHandlers: [CommandType: any OMReadRequestHandler.Type] = [
    .infoVolume: InfoVolume.self, .listVolume: ListVolumes.self, .infoBucket: InfoBucket.self,
    .listBuckets: ListBuckets.self, .lookupKey: LookupKey.self, .listKeys: ListKeys.self,
  ]

  /// Prepare and CancelPrepare: logged like writes, applied by `PrepareRequests`, and the only
  /// writes a prepared OM accepts.
  private static let prepareCommands: Set<CommandType> = [.prepare, .cancelPrepare]

  /// Answered by every OM itself, leader or not, without Raft (Ozone's PrepareStatus).
  private static let localCommands: Set<CommandType> = [.prepareStatus]

  /// Whether the command goes through the log: it changes the namespace, or prepares the OMs.
  public static func isWrite(_ cmdType: CommandType) -> Bool {
    writeHandlers[cmdType] != nil || prepareCommands.contains(cmdType)
  }

  static func isPrepareCommand(_ cmdType: CommandType) -> Bool { prepareCommands.contains(cmdType) }

  /// Whether each OM answers the command itself (see `localCommands`).
  public static func isLocal(_ cmdType: CommandType) -> Bool { localCommands.contains(cmdType) }

  /// Checks the envelope: a known command, a body that matches it, no fields we do not know.
  public static func checkEnvelope(_ request: OMRequest) throws(OMException) {
    guard isWrite(request.cmdType) || readHandlers[request.cmdType] != nil || isLocal(request.cmdType) else {
      throw OMException(.invalidRequest, "unknown command type \(request.cmdType.rawValue)")
    }
    guard let body = request.body else {
      throw OMException(.invalidRequest, "the \(request.cmdType) request has no body")
    }
    guard body.commandType == request.cmdType else {
      throw OMException(.invalidRequest, "the request says \(request.cmdType) but carries a \(body.commandType) body")
    }
    if UnknownFieldDetector.hasUnknownFields(request) {
      throw OMException(
        .invalidRequest, "the request carries fields this OM does not know; it was built for a newer protocol")
    }
  }

  /// Leader only: validates and rewrites a write request for the log.
  public static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits)
    throws(OMException) -> OMRequest
  {
    if isPrepareCommand(request.cmdType) { return try PrepareRequests.preExecute(request) }
    guard let handler = writeHandlers[request.cmdType] else {
      throw OMException(.invalidRequest, "\(request.cmdType) is not a write")
    }
    return try handler.preExecute(request, context: context, limits: limits)
  }

  /// Every replica: applies a logged write. A refused request returns its error response and an
  /// empty batch part; any other error is a store failure and is rethrown (fail-stop).
  public static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> (OMResponse, OMBatchPart) {
    guard let handler = writeHandlers[request.cmdType] else {
      return (.failure(request.cmdType, OMException(.invalidRequest, "\(request.cmdType) is not a write")), OMBatchPart())
    }
    do {
      let response = try handler.apply(request, transaction: transaction)
      return (response, transaction.part)
    } catch let refusal as OMException {
      return (.failure(request.cmdType, refusal), OMBatchPart())
    }
  }

  /// Serves a read from the tables (cache first, then RocksDB).
  public static func read(_ request: OMRequest, store: OMMetadataStore, limits: OMRequestLimits) throws -> OMResponse {
    guard let handler = readHandlers[request.cmdType] else {
      throw OMException(.invalidRequest, "\(request.cmdType) is not a read")
    }
    do {
      try handler.validate(request, limits: limits)
      return try handler.read(request, store: store, limits: limits)
    } catch let refusal as OMException {
      return .failure(request.cmdType, refusal)
    }
  }
}

extension OMRequest.OneOf_Body {
  /// The command this body belongs to.
  var commandType: CommandType {
    switch self {
    case .createVolumeRequest: .createVolume
    case .setVolumePropertyRequest: .setVolumeProperty
    case .infoVolumeRequest: .infoVolume
    case .deleteVolumeRequest: .deleteVolume
    case .listVolumeRequest: .listVolume
    case .createBucketRequest: .createBucket
    case .infoBucketRequest: .infoBucket
    case .setBucketPropertyRequest: .setBucketProperty
    case .deleteBucketRequest: .deleteBucket
    case .listBucketsRequest: .listBuckets
    case .createKeyRequest: .createKey
    case .lookupKeyRequest: .lookupKey
    case .renameKeyRequest: .renameKey
    case .deleteKeyRequest: .deleteKey
    case .listKeysRequest: .listKeys
    case .commitKeyRequest: .commitKey
    case .allocateBlockRequest: .allocateBlock
    case .deleteKeysRequest: .deleteKeys
    case .prepareRequest: .prepare
    case .prepareStatusRequest: .prepareStatus
    case .cancelPrepareRequest: .cancelPrepare
    }
  }
}
