import Foundation
import O3TestSupport
import Raft
import Testing

/// A group id is a UUID (Ozone's pipeline id); the default group is the nil UUID and has no wire
/// bytes.
@Suite(.watchdog) struct RaftGroupIDTests {
  @Test func uuidTextWireBytesAndHalvesAgree() throws {
    let text = "6f336b76-0000-4000-8000-0000000000a1"
    let id = try #require(RaftGroupID(uuidString: text))
    #expect(id.high == 0x6f33_6b76_0000_4000)
    #expect(id.low == 0x8000_0000_0000_00a1)
    #expect(id.description == text)
    #expect(id.wireBytes == [0x6f, 0x33, 0x6b, 0x76, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0xa1])
    #expect(RaftGroupID(wireBytes: id.wireBytes) == id)
    #expect(RaftGroupID(id.uuid) == id)
    #expect(RaftGroupID(uuidString: text.uppercased()) == id)
  }

  @Test func randomUUIDsRoundTripThroughEveryForm() throws {
    for _ in 0..<100 {
      let uuid = UUID()
      let id = RaftGroupID(uuid)
      #expect(id.uuid == uuid)
      #expect(id.description == uuid.uuidString.lowercased())
      #expect(RaftGroupID(uuidString: id.description) == id)
      #expect(RaftGroupID(wireBytes: id.wireBytes) == id)
    }
  }

  @Test func theDefaultGroupIsTheNilUUIDWithNoWireBytes() {
    #expect(RaftGroupID.default.wireBytes.isEmpty)
    #expect(RaftGroupID(wireBytes: []) == .default)
    #expect(RaftGroupID.default.description == "default")
    #expect(RaftGroupID.default.uuidText == "00000000-0000-0000-0000-000000000000")
    #expect(RaftGroupID(uuidString: "00000000-0000-0000-0000-000000000000") == .default)
  }

  @Test(arguments: [1, 8, 15, 17, 32])
  func wireBytesOfAnyOtherLengthAreNoGroup(length: Int) {
    #expect(RaftGroupID(wireBytes: [UInt8](repeating: 1, count: length)) == nil)
  }

  @Test func textThatIsNotAUUIDIsNoGroup() {
    for text in ["", "default", "6f336b76", "6f336b76-0000-0000-0000-00000000000g"] {
      #expect(RaftGroupID(uuidString: text) == nil, "\(text)")
    }
  }

  @Test func orderIsByHighThenLowHalf() {
    let ids = [
      RaftGroupID(high: 2, low: 0), RaftGroupID(high: 1, low: 9), RaftGroupID(high: 1, low: 3), .default,
    ]
    #expect(ids.sorted() == [.default, RaftGroupID(high: 1, low: 3), RaftGroupID(high: 1, low: 9), RaftGroupID(high: 2, low: 0)])
  }
}
