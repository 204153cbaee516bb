import Foundation
import OMMetadata

/// What the checkpoint service needs from the OM's database, as closures so that tests and the
/// server can each supply their own.
public struct OMCheckpointSource: Sendable {
  /// The om.db directory; checkpoints are taken beside it (same file system, so hard links).
  public var databasePath: String
  /// Blocks until every applied transaction is in RocksDB.
  public var awaitFlush: @Sendable () -> Void
  /// Stops and resumes the double buffer's writes while a checkpoint is taken.
  public var holdFlushes: @Sendable () -> Void
  public var releaseFlushes: @Sendable () -> Void
  /// The term#index in the live database's transactionInfoTable.
  public var transactionInfo: @Sendable () throws -> TermIndex
  /// Creates a RocksDB checkpoint in the given directory, which must not exist yet.
  public var createCheckpoint: @Sendable (String) throws -> Void

  public init(
    databasePath: String, awaitFlush: @escaping @Sendable () -> Void, holdFlushes: @escaping @Sendable () -> Void,
    releaseFlushes: @escaping @Sendable () -> Void, transactionInfo: @escaping @Sendable () throws -> TermIndex,
    createCheckpoint: @escaping @Sendable (String) throws -> Void
  ) {
    self.databasePath = databasePath
    self.awaitFlush = awaitFlush
    self.holdFlushes = holdFlushes
    self.releaseFlushes = releaseFlushes
    self.transactionInfo = transactionInfo
    self.createCheckpoint = createCheckpoint
  }

  /// The source over a running OM's store and double buffer.
  public init(
    store: OMMetadataStore, doubleBuffer: OMDoubleBuffer, createCheckpoint: @escaping @Sendable (String) throws -> Void
  ) {
    self.init(
      databasePath: store.path, awaitFlush: { doubleBuffer.awaitFlush() }, holdFlushes: { doubleBuffer.holdFlushes() },
      releaseFlushes: { doubleBuffer.releaseFlushes() }, transactionInfo: { try store.transactionInfo() },
      createCheckpoint: createCheckpoint)
  }

  /// How many times a checkpoint is retaken when a flush landed while it was taken. Flushes are
  /// held during the attempt, so only a batch already being written can land: two suffice.
  static let maxAttempts = 3

  /// Takes a checkpoint into `directory` and returns the term#index it holds.
  ///
  /// The database is written only by the double buffer, one atomic batch at a time, and every
  /// batch raises transactionInfo. So when transactionInfo reads the same before and after the
  /// checkpoint, no batch landed in between and the checkpoint holds exactly that term#index;
  /// otherwise the checkpoint is discarded and taken again.
  func takeCheckpoint(into directory: String) throws -> TermIndex {
    awaitFlush()
    holdFlushes()
    defer { releaseFlushes() }
    for _ in 0..<Self.maxAttempts {
      let before = try transactionInfo()
      do {
        try createCheckpoint(directory)
      } catch {
        try? FileManager.default.removeItem(atPath: directory)
        throw OMCheckpointError(.checkpointFailed, "cannot create a checkpoint of \(databasePath) at \(directory): \(error)")
      }
      let after = try transactionInfo()
      if before == after { return before }
      try FileManager.default.removeItem(atPath: directory)
    }
    throw OMCheckpointError(
      .unstableTermIndex, "the flushed term#index kept moving during \(Self.maxAttempts) checkpoint attempts")
  }
}
