import Foundation
import Logging
import O3TestSupport
import Raft
import RaftCore
import Testing

/// One directory per group under a root: created and removed so that a crash leaves a complete
/// group or none, and what a crash left is cleaned by the next scan.
@Suite(.watchdog) struct RaftGroupDirectoriesTests {
  private let first = RaftGroupID(high: 0x6f33_6b76_0000_0000, low: 1)
  private let second = RaftGroupID(high: 0x6f33_6b76_0000_0000, low: 2)

  private func withRoot(_ body: (String, RaftGroupDirectories) throws -> Void) throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("o3-groups-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: root) }
    try body(root, RaftGroupDirectories(root: root, logger: Logger(label: "groups-test")))
  }

  private func spec(_ group: RaftGroupID) -> RaftGroupSpec {
    RaftGroupSpec(
      id: group,
      members: [
        .init(peer: 1, address: "127.0.0.1:9858"), .init(peer: 2, address: "[::1]:9859"),
        .init(peer: 3, address: "dn3.example.com:9858"),
      ])
  }

  @Test func createdGroupsAreScannedAndTheirSpecsReadBack() throws {
    try withRoot { root, directories in
      #expect(try directories.scan() == [], "a missing root is created empty")
      try directories.create(spec(second))
      try directories.create(spec(first))
      #expect(try directories.scan() == [first, second])
      #expect(try directories.readSpec(first) == spec(first))
      #expect(try directories.readSpec(second) == spec(second))
      #expect(directories.logDirectory(of: first) == "\(root)/\(first.uuidText)/current")
      var isDirectory: ObjCBool = false
      #expect(FileManager.default.fileExists(atPath: directories.logDirectory(of: first), isDirectory: &isDirectory))
      #expect(isDirectory.boolValue)
      let text = try String(contentsOfFile: "\(root)/\(first.uuidText)/group.conf", encoding: .utf8)
      #expect(text.hasPrefix("O3RGRP1\ngroup=\(first.uuidText)\npeer=1@127.0.0.1:9858\npeer=2@[::1]:9859\n"))
    }
  }

  @Test func creatingAGroupTwiceIsRefusedAndLeavesTheFirstAlone() throws {
    try withRoot { _, directories in
      try directories.create(spec(first))
      var other = spec(first)
      other.members.removeLast()
      let error = #expect(throws: RaftLogError.self) { try directories.create(other) }
      #expect(error?.code == .inconsistentState)
      #expect(try directories.readSpec(first) == spec(first))
    }
  }

  @Test func aTombstonedGroupIsGoneAndTheOthersStay() throws {
    try withRoot { root, directories in
      try directories.create(spec(first))
      try directories.create(spec(second))
      FileManager.default.createFile(atPath: directories.logDirectory(of: first) + "/log_inprogress_1", contents: Data([1, 2, 3]))
      try directories.tombstone(first)
      #expect(try directories.scan() == [second])
      #expect(try FileManager.default.contentsOfDirectory(atPath: root) == [second.uuidText])
      #expect(throws: RaftLogError.self) { try directories.tombstone(first) }
    }
  }

  /// A crash during a creation leaves `<uuid>.tmp`, during a removal `removed-<uuid>`: both go
  /// at the next scan, and neither counts as a group. Other names are not the scan's to delete.
  @Test func debrisOfACrashIsDeletedAndForeignNamesAreIgnored() throws {
    try withRoot { root, directories in
      try directories.create(spec(first))
      let debris = ["\(second.uuidText).tmp", "removed-\(second.uuidText)"]
      for name in debris {
        try FileManager.default.createDirectory(atPath: "\(root)/\(name)/current", withIntermediateDirectories: true)
      }
      let foreign = ["lost+found", first.uuidText.uppercased(), "notes.txt"]
      try FileManager.default.createDirectory(atPath: "\(root)/lost+found", withIntermediateDirectories: true)
      try FileManager.default.createDirectory(atPath: "\(root)/\(foreign[1])", withIntermediateDirectories: true)
      FileManager.default.createFile(atPath: "\(root)/notes.txt", contents: Data("hello".utf8))
      #expect(try directories.scan() == [first])
      let left = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
      #expect(left == ([first.uuidText] + foreign).sorted())
    }
  }

  @Test(arguments: DamageCase.allCases)
  func aDamagedSpecIsRefusedNamingTheFile(_ damage: DamageCase) throws {
    try withRoot { root, directories in
      try directories.create(spec(first))
      let path = "\(root)/\(first.uuidText)/group.conf"
      var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
      damage.apply(to: &bytes, otherGroup: second)
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      let error = #expect(throws: RaftLogError.self) { try directories.readSpec(first) }
      #expect(error?.code == .corruptMetadata)
      #expect(error?.file == path)
      #expect(error?.message.contains(damage.expectedWords) == true, "\(error?.message ?? "")")
    }
  }

  enum DamageCase: CaseIterable, Sendable {
    case flippedByte, truncated, otherGroup, empty

    func apply(to bytes: inout [UInt8], otherGroup: RaftGroupID) {
      switch self {
      case .flippedByte: bytes[20] ^= 0x01
      case .truncated: bytes.removeLast(3)
      case .empty: bytes = []
      case .otherGroup:
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n").dropLast().map(String.init)
        var body = lines.enumerated().map { $0.offset == 1 ? "group=\(otherGroup.uuidText)" : $0.element }
          .joined(separator: "\n") + "\n"
        body += "crc32c=\(Self.hex(CRC32C.checksum(Array(body.utf8))))\n"
        bytes = Array(body.utf8)
      }
    }

    var expectedWords: String {
      switch self {
      case .flippedByte: "checksum"
      case .truncated: "not complete"
      case .empty: "does not start with O3RGRP1"
      case .otherGroup: "names group"
      }
    }

    private static func hex(_ value: UInt32) -> String {
      let digits = String(value, radix: 16)
      return String(repeating: "0", count: 8 - digits.count) + digits
    }
  }
}
