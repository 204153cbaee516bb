import CRocksDB

/// How a database is opened; every column family gets the same options.
public struct RocksDBOptions: Sendable {
  /// Block compression of SST files.
  public enum Compression: Sendable {
    case none, snappy, lz4, zstd
  }

  /// Create the database directory and files when they do not exist.
  public var createIfMissing = true
  /// Create named column families that the database does not have yet.
  public var createMissingColumnFamilies = true
  /// Fail the open when a database already exists at the path.
  public var errorIfExists = false
  /// lz4 by default: OM metadata (protobuf records with repeated volume, bucket and key names)
  /// compresses well, and lz4 costs the least CPU per byte of the codecs Debian links in, which
  /// matters on small shared machines where compaction competes with request handling. `none`
  /// would spend disk and page cache; `zstd` compresses better for more CPU.
  public var compression: Compression = .lz4
  /// When the write-ahead log grows past this, RocksDB flushes the column families whose
  /// memtables hold its oldest file, so the file can go. RocksDB's own default (4 × every
  /// family's memtable budget, 3.5 GiB for the OM's seven families) let the WAL reach 387 MB
  /// after 1,000,000 keys: a table written once (the volume and bucket tables) pins every WAL
  /// file after its last write until its memtable fills.
  public var maxTotalWALSizeBytes: UInt64 = 256 << 20
  /// The size compaction aims for per SST file. 8 MiB, not RocksDB's 64 MiB: a compaction
  /// rewrites only the files whose key range it touches, and a follower catching up by checkpoint
  /// keeps every SST file it already holds, so smaller files make that transfer closer to what
  /// changed (with 64 MiB files a 24 MB database was one file per table, rewritten by any
  /// compaction, and a 50,000-key delta re-sent all of it).
  public var targetFileSizeBytes: UInt64 = 8 << 20
  /// Bits per key of each SST file's full Bloom filter (Ozone's DB profiles use 10: about 1%
  /// false positives), 0 for none. Most OM writes look up a name that does not exist yet (a new
  /// key, a new open key); without a filter each such miss reads an index and a data block of
  /// every SST level it may be in.
  public var bloomFilterBitsPerKey: Double = 10
  /// The share of the memtable's budget given to a Bloom filter of whole keys, 0 for none: a
  /// lookup of an absent name then skips the memtable's skip-list search, which was the largest
  /// single part of applying a CreateKey or CommitKey.
  public var memtableBloomSizeRatio: Double = 0.1

  public init() {}

  /// A C options object for `rocksdb_open_column_families`; the caller destroys it after the
  /// open, since RocksDB copies what it needs.
  func makeCOptions() -> OpaquePointer {
    let options = rocksdb_options_create()!
    rocksdb_options_set_create_if_missing(options, createIfMissing ? 1 : 0)
    rocksdb_options_set_create_missing_column_families(options, createMissingColumnFamilies ? 1 : 0)
    rocksdb_options_set_error_if_exists(options, errorIfExists ? 1 : 0)
    rocksdb_options_set_compression(options, compression.cValue)
    rocksdb_options_set_max_total_wal_size(options, maxTotalWALSizeBytes)
    rocksdb_options_set_target_file_size_base(options, targetFileSizeBytes)
    if bloomFilterBitsPerKey > 0 {
      let table = rocksdb_block_based_options_create()!
      // The table options own the filter policy; the factory made from them keeps its own copy.
      rocksdb_block_based_options_set_filter_policy(table, rocksdb_filterpolicy_create_bloom_full(bloomFilterBitsPerKey))
      rocksdb_block_based_options_set_whole_key_filtering(table, 1)
      rocksdb_options_set_block_based_table_factory(options, table)
      rocksdb_block_based_options_destroy(table)
    }
    if memtableBloomSizeRatio > 0 {
      rocksdb_options_set_memtable_whole_key_filtering(options, 1)
      rocksdb_options_set_memtable_prefix_bloom_size_ratio(options, memtableBloomSizeRatio)
    }
    return options
  }
}

extension RocksDBOptions.Compression {
  var cValue: Int32 {
    switch self {
    case .none: Int32(rocksdb_no_compression)
    case .snappy: Int32(rocksdb_snappy_compression)
    case .lz4: Int32(rocksdb_lz4_compression)
    case .zstd: Int32(rocksdb_zstd_compression)
    }
  }
}
