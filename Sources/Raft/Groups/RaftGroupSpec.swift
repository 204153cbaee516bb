import RaftCore

/// What a Raft group is founded with: its id and its founding members with the Raft addresses
/// they listen on. For a datanode pipeline this is what SCM's create-pipeline command carries;
/// Ozone never changes a pipeline's members afterwards (a pipeline with a failed member is
/// closed and replaced), so the spec stays true for the group's life and is kept beside its log
/// to recover the group at restart.
public struct RaftGroupSpec: Sendable, Hashable {
  /// One founding member.
  public struct Member: Sendable, Hashable {
    public var peer: PeerID
    /// `host:port` (an IPv6 host in brackets), as the transport dials it.
    public var address: String

    public init(peer: PeerID, address: String) {
      self.peer = peer
      self.address = address
    }
  }

  public var id: RaftGroupID
  public var members: [Member]

  /// The most members a group may have: Ozone's pipelines have one or three; the bound keeps a
  /// damaged spec file from asking for anything large.
  public static let membersMax = 64

  public init(id: RaftGroupID, members: [Member]) {
    self.id = id
    self.members = members
  }

  /// The voters the group's log is bootstrapped with.
  public var membership: Membership {
    Membership(voters: members.map(\.peer), learners: [])
  }

  /// Why this spec cannot found a group, in a sentence; nil when it can.
  public var problem: String? {
    guard !members.isEmpty else { return "group \(id) has no members" }
    guard members.count <= Self.membersMax else {
      return "group \(id) has \(members.count) members, more than \(Self.membersMax)"
    }
    var seen = Set<PeerID>()
    for member in members {
      guard seen.insert(member.peer).inserted else { return "group \(id) lists peer \(member.peer) twice" }
      guard Self.isPlausibleAddress(member.address) else {
        return "the address \"\(member.address)\" of peer \(member.peer) in group \(id) is not host:port "
          + "with a port in 1...65535"
      }
    }
    return nil
  }

  /// `host:port` with a port in 1...65535 and no spaces or control characters (the spec file is
  /// one member per line).
  static func isPlausibleAddress(_ address: String) -> Bool {
    guard let colon = address.lastIndex(of: ":"), colon != address.startIndex,
      let port = Int(address[address.index(after: colon)...]), (1...65_535).contains(port)
    else { return false }
    return address.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
  }
}

/// The spec file kept beside a group's log (`group.conf`): text, one field per line, so an
/// operator can read it, with a checksum so that damage is found rather than believed:
///
///     O3RGRP1
///     group=6f336b76-0000-0000-0000-000000000001
///     peer=1@127.0.0.1:9858
///     peer=2@127.0.0.1:9859
///     crc32c=1f2e3d4c
///
/// The checksum (CRC-32C, eight lower-case hex digits) covers every byte before its line.
enum RaftGroupSpecFile {
  static let name = "group.conf"
  private static let magic = "O3RGRP1"
  /// The most bytes a spec file may have: members at most ``RaftGroupSpec/membersMax`` lines.
  static let bytesMax = 64 << 10

  static func encode(_ spec: RaftGroupSpec) -> [UInt8] {
    var text = "\(magic)\ngroup=\(spec.id.uuidText)\n"
    for member in spec.members {
      text += "peer=\(member.peer.rawValue)@\(member.address)\n"
    }
    var bytes = Array(text.utf8)
    bytes += Array("crc32c=\(hex(CRC32C.checksum(bytes)))\n".utf8)
    return bytes
  }

  static func decode(_ bytes: [UInt8], file: String) throws(RaftLogError) -> RaftGroupSpec {
    guard bytes.count <= bytesMax else { throw damaged("\(bytes.count) bytes is too long", file) }
    guard let text = String(validating: bytes, as: UTF8.self) else { throw damaged("not UTF-8 text", file) }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard lines.last == "" else { throw damaged("the last line is not complete", file) }
    lines.removeLast()
    guard lines.count >= 3, lines[0] == magic else {
      throw damaged("it does not start with \(magic) and hold a group and a checksum", file)
    }
    let checksumLine = lines.removeLast()
    let checkedBytes = bytes.count - checksumLine.utf8.count - 1
    guard checksumLine == "crc32c=\(hex(CRC32C.checksum(bytes[..<checkedBytes])))" else {
      throw damaged("the checksum line \"\(checksumLine)\" does not match its content", file)
    }
    guard lines[1].hasPrefix("group="), let id = RaftGroupID(uuidString: String(lines[1].dropFirst(6))) else {
      throw damaged("line 2 \"\(lines[1])\" is not group=<uuid>", file)
    }
    var members: [RaftGroupSpec.Member] = []
    for line in lines[2...] {
      members.append(try member(line, file: file))
    }
    let spec = RaftGroupSpec(id: id, members: members)
    if let problem = spec.problem { throw damaged(problem, file) }
    return spec
  }

  private static func member(_ line: String, file: String) throws(RaftLogError) -> RaftGroupSpec.Member {
    guard line.hasPrefix("peer="), let at = line.firstIndex(of: "@"),
      let peer = UInt64(line[line.index(line.startIndex, offsetBy: 5)..<at]), peer != 0
    else { throw damaged("\"\(line)\" is not peer=<id>@<host:port> with an id above 0", file) }
    return RaftGroupSpec.Member(peer: PeerID(peer), address: String(line[line.index(after: at)...]))
  }

  private static func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
  }

  private static func damaged(_ reason: String, _ file: String) -> RaftLogError {
    RaftLogError(.corruptMetadata, "the Raft group spec is damaged: \(reason)", file: file)
  }
}
