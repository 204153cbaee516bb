/// The configuration keys O3 reads, with Ozone's names and defaults.
public enum OzoneConfigKeys {
  /// Root of every OM directory unless a more specific key says otherwise.
  public static let metadataDirs = "ozone.metadata.dirs"
  /// Where om.db lives; falls back to `ozone.metadata.dirs`.
  public static let omDBDirs = "ozone.om.db.dirs"
  /// The OM client RPC address (`host[:port]`), single-OM form.
  public static let omAddress = "ozone.om.address"
  public static let omAddressDefaultPort = 9862
  /// Transactions applied but not yet flushed to RocksDB before apply blocks (back-pressure).
  public static let unflushedTransactionMaxCount = "ozone.om.unflushed.transaction.max.count"
  public static let unflushedTransactionMaxCountDefault = 10_000
  /// Largest page a listing returns, whatever the client asks for.
  public static let listMaxSize = "ozone.om.server.list.max.size"
  public static let listMaxSizeDefault = 1_000
  /// Largest OM request frame, in bytes.
  public static let maxRequestBytes = "ozone.om.max.request.bytes"
  public static let maxRequestBytesDefault: Int64 = 32 << 20
  /// Whether `_` is refused in volume and bucket names (S3's strict rules).
  public static let namespaceStrictS3 = "ozone.om.namespace.s3.strict"
}
