import Foundation

/// Names one Raft group among those a process hosts: a datanode is a member of several pipelines,
/// each its own group, all behind one Raft port. Ozone's pipeline id is a UUID, and so is Ratis'
/// `RaftGroupId`; this is that UUID as two big-endian halves.
///
/// The all-zero id is ``default``: the one group of a server that hosts only one (the OM, SCM).
/// On the wire it is sent as no bytes at all, so a single-group server's messages are byte for
/// byte what they were before groups existed. The consensus core never sees group ids; only the
/// transport and the host that keeps one `RaftServer` per group do.
public struct RaftGroupID: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The UUID's first eight bytes, big-endian.
  public let high: UInt64
  /// The UUID's last eight bytes, big-endian.
  public let low: UInt64

  /// The group of a server that hosts only one; empty on the wire.
  public static let `default` = RaftGroupID(high: 0, low: 0)

  /// The length of a named group's id on the wire: a UUID.
  public static let wireBytesCount = 16

  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  public init(_ uuid: UUID) {
    let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
    self.init(high: Self.bigEndian(bytes[0..<8]), low: Self.bigEndian(bytes[8..<16]))
  }

  /// The group whose wire form is `bytes`: none is ``default``, 16 are a UUID; any other length
  /// is not a group id (nil).
  public init?(wireBytes bytes: some Collection<UInt8>) {
    switch bytes.count {
    case 0:
      self = .default
    case Self.wireBytesCount:
      let array = Array(bytes)
      self.init(high: Self.bigEndian(array[0..<8]), low: Self.bigEndian(array[8..<16]))
    default:
      return nil
    }
  }

  /// The group named by a UUID's text (`6f336b76-0000-0000-0000-000000000001`, either case);
  /// nil for any other text. The nil UUID parses as ``default``.
  public init?(uuidString text: String) {
    guard let uuid = UUID(uuidString: text) else { return nil }
    self.init(uuid)
  }

  public var isDefault: Bool { self == .default }

  /// The UUID this id is.
  public var uuid: UUID {
    let bytes = bigEndianBytes
    return UUID(
      uuid: (
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
        bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
      ))
  }

  /// What raft.proto's `Message.group` carries: nothing for ``default``, else the 16 UUID bytes.
  public var wireBytes: [UInt8] {
    isDefault ? [] : bigEndianBytes
  }

  /// The UUID in its canonical lower-case text, as Ozone and Ratis print pipeline and group ids
  /// (and as a group's directory is named); "default" for ``default``.
  public var description: String {
    isDefault ? "default" : uuidText
  }

  /// The canonical lower-case UUID text, also for ``default`` (the nil UUID).
  public var uuidText: String {
    let hex = bigEndianBytes.map { byte in
      let text = String(byte, radix: 16)
      return byte < 0x10 ? "0" + text : text
    }
    return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]]
      .map { $0.joined() }.joined(separator: "-")
  }

  public static func < (left: RaftGroupID, right: RaftGroupID) -> Bool {
    (left.high, left.low) < (right.high, right.low)
  }

  private var bigEndianBytes: [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Self.wireBytesCount)
    for half in [high, low] {
      for shift in stride(from: 56, through: 0, by: -8) {
        bytes.append(UInt8(truncatingIfNeeded: half >> UInt64(shift)))
      }
    }
    return bytes
  }

  private static func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    bytes.reduce(0) { ($0 << 8) | UInt64($1) }
  }
}
