import Foundation
import Logging
import NIOCore
import NIOPosix
import O3Common
import O3RPC
import OMMetadata

/// A running single-replica Ozone Manager: its database, apply path, flush thread and RPC server.
public final class OzoneManagerServer: Sendable {
  /// Everything the server needs from the configuration, parsed and checked up front.
  public struct Settings: Sendable {
    public var storage: OMStorage
    public var address: HostAndPort
    public var maxUnflushedTransactions: Int
    public var requestLimits = OMRequestLimits()
    public var rpcLimits = RPCLimits()

    public init(configuration: OzoneConfiguration) throws {
      storage = try OMStorage(configuration: configuration)
      address = try configuration.hostAndPort(
        OzoneConfigKeys.omAddress, defaultHost: "0.0.0.0", defaultPort: OzoneConfigKeys.omAddressDefaultPort)
      maxUnflushedTransactions = try configuration.integer(
        OzoneConfigKeys.unflushedTransactionMaxCount, default: OzoneConfigKeys.unflushedTransactionMaxCountDefault)
      guard maxUnflushedTransactions > 0 else {
        throw ConfigurationError(key: OzoneConfigKeys.unflushedTransactionMaxCount, message: "must be positive")
      }
      requestLimits.listMaxSize = try configuration.integer(
        OzoneConfigKeys.listMaxSize, default: OzoneConfigKeys.listMaxSizeDefault)
      guard requestLimits.listMaxSize > 0 else {
        throw ConfigurationError(key: OzoneConfigKeys.listMaxSize, message: "must be positive")
      }
      requestLimits.strictS3Names = try configuration.boolean(OzoneConfigKeys.namespaceStrictS3, default: true)
      let maxRequestBytes = try configuration.bytes(
        OzoneConfigKeys.maxRequestBytes, default: OzoneConfigKeys.maxRequestBytesDefault)
      guard (1024...Int64(Int32.max)).contains(maxRequestBytes) else {
        throw ConfigurationError(key: OzoneConfigKeys.maxRequestBytes, message: "must be between 1KB and 2GB")
      }
      rpcLimits.maxFrameBytes = Int(maxRequestBytes)
    }
  }

  public let settings: Settings
  public let store: OMMetadataStore
  private let doubleBuffer: OMDoubleBuffer
  private let submitter: SingleReplicaSubmitter
  private let rpcServer: RPCServer
  private let readPool: NIOThreadPool
  private let logger: Logger

  /// The port the client RPC server listens on (useful when configured as 0).
  public var port: Int { rpcServer.localPort }

  private init(
    settings: Settings, store: OMMetadataStore, doubleBuffer: OMDoubleBuffer, submitter: SingleReplicaSubmitter,
    rpcServer: RPCServer, readPool: NIOThreadPool, logger: Logger
  ) {
    self.submitter = submitter
    self.settings = settings
    self.store = store
    self.doubleBuffer = doubleBuffer
    self.rpcServer = rpcServer
    self.readPool = readPool
    self.logger = logger
  }

  /// Opens the database and starts serving.
  ///
  /// - Parameter onFatalError: called when apply or flush fails; the process must stop (the
  ///   default logs and exits), because a replica that cannot persist must not keep answering.
  public static func start(
    settings: Settings, group: any EventLoopGroup, logger: Logger = Logger(label: "o3.om"),
    clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) },
    onFatalError: @escaping @Sendable (Error) -> Void = OzoneManagerServer.exitOnFatalError
  ) async throws -> OzoneManagerServer {
    try settings.storage.requireInitialized()
    let store = try OMMetadataStore.open(path: settings.storage.databasePath)
    let flushed = try store.transactionInfo()
    let doubleBuffer = OMDoubleBuffer(
      store: store, maxUnflushedTransactions: settings.maxUnflushedTransactions, syncWrites: true,
      flushedUpTo: flushed, onFatalError: onFatalError)
    doubleBuffer.start()
    let readPool = NIOThreadPool(numberOfThreads: 2)
    readPool.start()
    do {
      let submitter = try SingleReplicaSubmitter(
        stateMachine: OMStateMachine(store: store, doubleBuffer: doubleBuffer), onFatalError: onFatalError)
      let service = OMClientService(
        store: store, submitter: submitter, readPool: readPool, limits: settings.requestLimits, clock: clock)
      let rpcServer: RPCServer
      do {
        rpcServer = try await RPCServer.start(
          host: settings.address.host, port: settings.address.port, handler: service, limits: settings.rpcLimits,
          group: group)
      } catch {
        throw ConfigurationError(key: OzoneConfigKeys.omAddress, message: "\(error)")
      }
      logger.info(
        "OM started", metadata: ["address": "\(settings.address.host):\(rpcServer.localPort)", "db": "\(store.path)", "applied": "\(flushed)"])
      return OzoneManagerServer(
        settings: settings, store: store, doubleBuffer: doubleBuffer, submitter: submitter, rpcServer: rpcServer,
        readPool: readPool, logger: logger)
    } catch {
      doubleBuffer.stop()
      try? await readPool.shutdownGracefully()
      store.close()
      throw error
    }
  }

  /// Stops accepting calls, flushes what was applied, and closes the database.
  public func shutdown() async {
    try? await rpcServer.shutdown()
    submitter.drain()
    doubleBuffer.stop()
    try? await readPool.shutdownGracefully()
    store.close()
    logger.info("OM stopped", metadata: ["flushed": "\(doubleBuffer.flushedTermIndex)"])
  }

  /// The default fatal-error action: say why, then stop the process (Ozone's ExitUtils.terminate).
  public static let exitOnFatalError: @Sendable (Error) -> Void = { error in
    Logger(label: "o3.om").critical("stopping the OM: apply or flush failed and continuing could diverge: \(error)")
    exit(1)
  }
}
