import OMMetadata

/// A digest of every table of one stopped OM's database: one 64-bit FNV-1a per table over its
/// rows in key order (each key and value length-prefixed), plus the rows themselves so that a
/// mismatch can name the first row that differs.
struct ReplicaDigest: Sendable {
  typealias Row = (key: [UInt8], value: [UInt8])

  let nodeID: String
  let tables: [String: UInt64]
  let rows: [String: [Row]]

  /// Opens `databasePath` (its OM must have stopped) and digests every table.
  init(nodeID: String, databasePath: String) throws {
    let store = try OMMetadataStore.open(path: databasePath)
    defer { store.close() }
    var rows: [String: [Row]] = [:]
    for name in OMTableName.allCases { rows[name.rawValue] = [] }
    for row in try store.dumpAllTables() { rows[row.table, default: []].append((row.key, row.value)) }
    self.nodeID = nodeID
    self.rows = rows
    tables = rows.mapValues(Self.digest)
  }

  private static func digest(_ rows: [Row]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ bytes: [UInt8]) {
      var length = UInt32(bytes.count)
      for _ in 0..<4 {
        hash = (hash ^ UInt64(length & 0xff)) &* 0x0000_0100_0000_01b3
        length >>= 8
      }
      for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    }
    for row in rows {
      mix(row.key)
      mix(row.value)
    }
    return hash
  }

  var summary: String {
    tables.keys.sorted().map { "\($0)=\(String(tables[$0]!, radix: 16)) (\(rows[$0]!.count) rows)" }.joined(separator: " ")
  }

  /// Where `other` differs from this digest, one line per table; empty when they agree.
  func differences(from other: ReplicaDigest) -> [String] {
    tables.keys.sorted().compactMap { table -> String? in
      guard tables[table] != other.tables[table] else { return nil }
      let mine = rows[table] ?? []
      let theirs = other.rows[table] ?? []
      let common = min(mine.count, theirs.count)
      let first = (0..<common).first { mine[$0].key != theirs[$0].key || mine[$0].value != theirs[$0].value } ?? common
      func describe(_ rows: [Row]) -> String {
        first < rows.count ? String(decoding: rows[first].key, as: UTF8.self) : "(end)"
      }
      return "\(table): \(nodeID) has \(mine.count) rows, \(other.nodeID) \(theirs.count); first difference at row \(first) "
        + "(\(nodeID) key \(describe(mine)), \(other.nodeID) key \(describe(theirs)))"
    }
  }
}
