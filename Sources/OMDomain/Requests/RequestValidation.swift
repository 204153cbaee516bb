import OMProto

/// Checks every request makes before it reaches Raft: names, sizes, quotas, paging.
///
/// Ozone's resource-name rules (`HddsClientUtils.verifyResourceName`): 3–63 characters of lowercase
/// letters, digits, `-` and `.`; no leading or trailing `-` or `.`; no `..`, `-.` or `.-`; nothing
/// that looks like an IPv4 address; `_` only when strict S3 naming is off.
enum RequestValidation {
  static func volumeName(_ name: String, limits: OMRequestLimits) throws(OMException) {
    if let problem = resourceNameProblem(name, strictS3: limits.strictS3Names) {
      throw OMException(.invalidVolumeName, "invalid volume name '\(name)': \(problem)")
    }
  }

  static func bucketName(_ name: String, limits: OMRequestLimits) throws(OMException) {
    if let problem = resourceNameProblem(name, strictS3: limits.strictS3Names) {
      throw OMException(.invalidBucketName, "invalid bucket name '\(name)': \(problem)")
    }
  }

  static func keyName(_ name: String, limits: OMRequestLimits) throws(OMException) {
    if name.isEmpty {
      throw OMException(.invalidKeyName, "the key name is empty")
    }
    if name.utf8.count > limits.keyNameMaxBytes {
      throw OMException(
        .invalidKeyName, "the key name is \(name.utf8.count) bytes long; the limit is \(limits.keyNameMaxBytes)")
    }
    if name.utf8.contains(0) {
      throw OMException(.invalidKeyName, "the key name contains a NUL character")
    }
  }

  static func bucketAddress(_ volume: String, _ bucket: String, limits: OMRequestLimits) throws(OMException) {
    try volumeName(volume, limits: limits)
    try bucketName(bucket, limits: limits)
  }

  static func keyAddress(_ arguments: KeyArgs, limits: OMRequestLimits) throws(OMException) {
    try bucketAddress(arguments.volumeName, arguments.bucketName, limits: limits)
    try keyName(arguments.keyName, limits: limits)
  }

  /// A quota is -1 (none) or positive.
  static func quota(_ value: Int64, what: String) throws(OMException) {
    if value != -1 && value <= 0 {
      throw OMException(.quotaError, "invalid \(what) quota \(value): give a positive number, or -1 for no quota")
    }
  }

  static func metadata(_ pairs: [KeyValue], limits: OMRequestLimits) throws(OMException) {
    if pairs.count > limits.metadataMaxCount {
      throw OMException(.invalidRequest, "\(pairs.count) metadata entries; the limit is \(limits.metadataMaxCount)")
    }
    for pair in pairs where pair.key.utf8.count > limits.metadataEntryMaxBytes || pair.value.utf8.count > limits.metadataEntryMaxBytes {
      throw OMException(
        .invalidRequest, "metadata entry '\(pair.key.prefix(40))' is longer than \(limits.metadataEntryMaxBytes) bytes")
    }
  }

  /// The page size a listing uses: the client's (0 means the server's maximum), capped.
  static func pageSize(_ requested: UInt32, limits: OMRequestLimits) -> Int {
    requested == 0 ? limits.listMaxSize : min(Int(requested), limits.listMaxSize)
  }

  /// Why `name` is not a valid volume or bucket name, or nil when it is.
  static func resourceNameProblem(_ name: String, strictS3: Bool) -> String? {
    let bytes = Array(name.utf8)
    guard bytes.count >= 3 else { return "names are at least 3 characters long" }
    guard bytes.count <= 63 else { return "names are at most 63 characters long" }
    for byte in bytes {
      let allowed =
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || (!strictS3 && byte == UInt8(ascii: "_"))
      if !allowed {
        if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { return "upper-case letters are not allowed" }
        return "only lower-case letters, digits, '-' and '.' are allowed"
      }
    }
    let first = bytes[0]
    let last = bytes[bytes.count - 1]
    if first == UInt8(ascii: "-") || first == UInt8(ascii: ".") { return "names cannot start with '-' or '.'" }
    if last == UInt8(ascii: "-") || last == UInt8(ascii: ".") { return "names cannot end with '-' or '.'" }
    // A byte scan: String.contains(String) goes through Foundation and was a visible share of a
    // write's CPU time.
    let dot = UInt8(ascii: ".")
    let dash = UInt8(ascii: "-")
    for (byte, next) in zip(bytes, bytes.dropFirst()) where (byte == dot || byte == dash) && (next == dot || next == dash) {
      if byte == dash && next == dash { continue }
      return "names cannot contain '..', '-.' or '.-'"
    }
    if bytes.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") }) {
      return "names cannot look like an IP address"
    }
    return nil
  }
}
