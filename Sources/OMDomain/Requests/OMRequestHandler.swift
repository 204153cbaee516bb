import OMMetadata
import OMProto

/// What the leader knows when it prepares a write: everything non-deterministic lives here.
public struct PreExecuteContext: Sendable {
  /// Wall-clock milliseconds since the epoch, read once per request on the leader.
  public var nowMilliseconds: UInt64
  /// The user the request acts as (Ozone without Kerberos trusts the client's user name).
  public var userName: String
  /// A fresh random id for open-key sessions.
  public var randomID: @Sendable () -> UInt64

  public init(nowMilliseconds: UInt64, userName: String, randomID: @escaping @Sendable () -> UInt64) {
    self.nowMilliseconds = nowMilliseconds
    self.userName = userName
    self.randomID = randomID
  }
}

/// Limits that validation and reads enforce.
public struct OMRequestLimits: Sendable {
  /// Largest page a listing returns (`ozone.om.server.list.max.size`).
  public var listMaxSize = 1_000
  /// Longest key name, in UTF-8 bytes.
  public var keyNameMaxBytes = 4_096
  /// Most keys one DeleteKeys request may name.
  public var deleteKeysMaxCount = 1_000
  /// Most metadata pairs on a volume, bucket or key, and longest metadata key or value in bytes.
  public var metadataMaxCount = 128
  public var metadataEntryMaxBytes = 4_096
  /// Whether `_` is refused in volume and bucket names (`ozone.om.namespace.s3.strict`).
  public var strictS3Names = true

  public init() {}
}

/// A request that changes the namespace: prepared once on the leader, applied on every replica.
protocol OMWriteRequestHandler: Sendable {
  /// Leader only, before Raft: validates and rewrites the request (times, user, ids).
  static func preExecute(_ request: OMRequest, context: PreExecuteContext, limits: OMRequestLimits) throws(OMException)
    -> OMRequest
  /// Every replica, in log order: deterministic; reads and writes only through `transaction`.
  /// Throws `OMException` for a refused request (its changes are dropped) and any other error
  /// for a failure of the store, which is fatal to the replica.
  static func apply(_ request: OMRequest, transaction: OMTransaction) throws -> OMResponse
}

/// A request that only reads.
protocol OMReadRequestHandler: Sendable {
  static func validate(_ request: OMRequest, limits: OMRequestLimits) throws(OMException)
  static func read(_ request: OMRequest, store: OMMetadataStore, limits: OMRequestLimits) throws -> OMResponse
}
