import OMMetadata
import OMProto

/// What every row of a fuzzed OM's tables must satisfy, written from Ozone's rules without the
/// OM's validation code: if a mutated request slipped past validation, its row shows here.
enum NamespaceInvariants {
  /// The problems found in `store`'s volume, bucket and key tables (empty when none).
  static func problems(in store: OMMetadataStore) throws -> [String] {
    var problems: [String] = []
    for row in try store.volumeTable.list(prefix: [], startAfter: nil, limit: Int.max - 1).rows {
      let volume = row.value
      if !isResourceName(volume.volume) { problems.append("volume name \(volume.volume.debugDescription)") }
      if !isQuota(volume.quotaInBytes) || !isQuota(volume.quotaInNamespace) {
        problems.append("volume \(volume.volume) quotas \(volume.quotaInBytes)/\(volume.quotaInNamespace)")
      }
      if volume.metadata.count > 128 { problems.append("volume \(volume.volume) has \(volume.metadata.count) metadata entries") }
    }
    for row in try store.bucketTable.list(prefix: [], startAfter: nil, limit: Int.max - 1).rows {
      let bucket = row.value
      if !isResourceName(bucket.bucketName) { problems.append("bucket name \(bucket.bucketName.debugDescription)") }
      if !isQuota(bucket.quotaInBytes) || !isQuota(bucket.quotaInNamespace) {
        problems.append("bucket \(bucket.bucketName) quotas \(bucket.quotaInBytes)/\(bucket.quotaInNamespace)")
      }
      if bucket.metadata.count > 128 { problems.append("bucket \(bucket.bucketName) has \(bucket.metadata.count) metadata entries") }
    }
    for table in [store.keyTable, store.openKeyTable] {
      for row in try table.list(prefix: [], startAfter: nil, limit: Int.max - 1).rows {
        let name = row.value.keyName
        if name.isEmpty || name.utf8.count > 4_096 || name.utf8.contains(0) {
          problems.append("\(table.name.rawValue) key name of \(name.utf8.count) bytes: \(name.prefix(20).debugDescription)")
        }
      }
    }
    return problems
  }

  /// Ozone's volume and bucket names (strict S3): 3–63 of a-z 0-9 - . ; no leading or trailing
  /// punctuation, no "..", "-.", ".-", and not all digits and dots (an IP address).
  static func isResourceName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.".utf8)
    let punctuation = Set("-.".utf8)
    guard (3...63).contains(bytes.count), bytes.allSatisfy(allowed.contains) else { return false }
    guard !punctuation.contains(bytes.first!), !punctuation.contains(bytes.last!) else { return false }
    guard !name.contains(".."), !name.contains("-."), !name.contains(".-") else { return false }
    return !bytes.allSatisfy { Set("0123456789.".utf8).contains($0) }
  }

  /// -1 (no quota) or positive.
  static func isQuota(_ value: Int64) -> Bool { value == -1 || value > 0 }
}
