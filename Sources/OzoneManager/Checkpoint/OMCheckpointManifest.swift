/// What a checkpoint holds: the first entry of the tar stream sent by `/v2/dbCheckpoint`.
///
/// It lists every file of the checkpoint, including the SST files the follower said it already
/// has (`sent == false`): the follower hard-links those from its own copy and checks them against
/// the size and checksum here, which also catches a same-named SST from an unrelated database.
public struct OMCheckpointManifest: Codable, Sendable, Equatable {
  /// The name of the manifest's tar entry; always the first entry.
  public static let entryName = "o3-checkpoint-manifest.json"
  /// Bumped whenever a reader of the previous version would misread the stream.
  public static let currentFormatVersion = 1

  /// One file of the checkpoint directory (flat: RocksDB checkpoints have no subdirectories).
  public struct File: Codable, Sendable, Equatable {
    public var name: String
    public var sizeBytes: UInt64
    /// CRC-32C (Castagnoli) of the whole file.
    public var crc32c: UInt32
    /// False when the follower listed this SST as one it holds: it is not in the stream.
    public var sent: Bool

    public init(name: String, sizeBytes: UInt64, crc32c: UInt32, sent: Bool) {
      self.name = name
      self.sizeBytes = sizeBytes
      self.crc32c = crc32c
      self.sent = sent
    }
  }

  public var formatVersion: Int
  /// The term#index of the last transaction in the checkpoint (its transactionInfoTable row).
  public var term: UInt64
  public var index: UInt64
  public var files: [File]
  /// Bytes of the files sent (without tar framing): what the follower must have free.
  public var estimatedTransferBytes: UInt64

  public init(term: UInt64, index: UInt64, files: [File]) {
    self.formatVersion = Self.currentFormatVersion
    self.term = term
    self.index = index
    self.files = files
    self.estimatedTransferBytes = files.filter(\.sent).reduce(0) { $0 + $1.sizeBytes }
  }
}
