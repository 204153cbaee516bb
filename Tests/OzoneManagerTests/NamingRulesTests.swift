import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// Ozone's volume and bucket naming rules (HddsClientUtils.verifyResourceName): 3–63 characters
/// of lower-case letters, digits, '-' and '.'; no leading or trailing '-' or '.'; no "..", "-."
/// or ".-"; nothing that looks like an IPv4 address or is all digits; '_' only when strict S3
/// naming is off. Key names: non-empty, no NUL, at most `keyNameMaxBytes` UTF-8 bytes.
@Suite(.watchdog, .ownThreads) struct NamingRulesTests {
  static let validNames = [
    "abc", "a-b", "a.b", "vol1", "1abc", "abc1", "a-b-c.d.e", "x1.y2-z3", "123a", "1.2.3.a",
    String(repeating: "a", count: 63), "a" + String(repeating: "0", count: 62),
  ]

  static let invalidNames = [
    "", "a", "ab", String(repeating: "a", count: 64), "Abc", "abC", "ABC",
    "-abc", "abc-", ".abc", "abc.", "a..b", "a-.b", "a.-b",
    "a_b", "a b", "a/b", "a:b", "a@b", "ab\u{0}c", "abé", "ab\u{1F600}",
    "123", "192.168.1.1", "1.2.3", "10.0.0.256",
  ]

  @Test(arguments: validNames)
  func aValidNameNamesAVolumeAndABucket(name: String) throws {
    let om = try OMHarness()
    #expect(try om.submit(Requests.createVolume(name)).status == .ok)
    #expect(try om.submit(Requests.createBucket(name, name)).status == .ok)
    #expect(try om.submit(Requests.infoBucket(name, name)).status == .ok)
  }

  @Test(arguments: invalidNames)
  func anInvalidVolumeNameIsInvalidVolumeNameEverywhere(name: String) throws {
    let om = try OMHarness()
    try om.makeBucket("vol1", "bucket1")
    let before = try om.fingerprint()
    let requests = [
      Requests.createVolume(name), Requests.infoVolume(name), Requests.deleteVolume(name),
      Requests.setVolumeProperty(name, owner: "erin"), Requests.createBucket(name, "bucket1"),
      Requests.listBuckets(name), Requests.infoBucket(name, "bucket1"), Requests.createKey(name, "bucket1", "k"),
      Requests.lookupKey(name, "bucket1", "k"), Requests.listKeys(name, "bucket1"),
      Requests.deleteKeys(name, "bucket1", ["k"]),
    ]
    for request in requests {
      let response = try om.submit(request)
      #expect(response.status == .invalidVolumeName, "\(request.cmdType) '\(name)': \(response.message)")
      #expect(response.message.contains("volume"))
    }
    #expect(om.lastIndex == 2, "no invalid name reached the log")
    #expect(try om.fingerprint().rows == before.rows)
  }

  @Test(arguments: invalidNames)
  func anInvalidBucketNameIsInvalidBucketNameEverywhere(name: String) throws {
    let om = try OMHarness()
    try om.makeBucket("vol1", "bucket1")
    var change = Requests.bucketProperties("vol1", name)
    change.isVersionEnabled = true
    let requests = [
      Requests.createBucket("vol1", name), Requests.infoBucket("vol1", name), Requests.deleteBucket("vol1", name),
      Requests.setBucketProperty(change), Requests.createKey("vol1", name, "k"), Requests.lookupKey("vol1", name, "k"),
      Requests.listKeys("vol1", name), Requests.renameKey("vol1", name, from: "a", to: "b"),
      Requests.deleteKey("vol1", name, "k"), Requests.deleteKeys("vol1", name, ["k"]),
      Requests.commitKey("vol1", name, "k", session: 1, dataSize: 0),
      Requests.allocateBlock("vol1", name, "k", session: 1),
    ]
    for request in requests {
      let response = try om.submit(request)
      #expect(response.status == .invalidBucketName, "\(request.cmdType) '\(name)': \(response.message)")
    }
    #expect(om.lastIndex == 2, "no invalid name reached the log")
  }

  @Test func anUnderscoreIsAllowedOnlyWithoutStrictS3Naming() throws {
    let om = try OMHarness()
    #expect(try om.submit(Requests.createVolume("my_vol")).status == .invalidVolumeName)
    om.limits.strictS3Names = false
    #expect(try om.submit(Requests.createVolume("my_vol")).status == .ok)
    #expect(try om.submit(Requests.createBucket("my_vol", "my_bucket")).status == .ok)
    #expect(try om.submit(Requests.createVolume("_vol")).status == .ok, "Ozone lets '_' lead when not strict")
    #expect(try om.submit(Requests.createVolume("My_vol")).status == .invalidVolumeName, "still lower case")
    om.limits.strictS3Names = true
    #expect(try om.submit(Requests.infoBucket("my_vol", "my_bucket")).status == .invalidVolumeName)
  }

  @Test func keyNamesUpToTheLimitInBytesAreAccepted() throws {
    let om = try OMHarness()
    om.limits.keyNameMaxBytes = 16
    try om.makeBucket()
    let atLimit = String(repeating: "k", count: 16)
    let multibyteAtLimit = String(repeating: "é", count: 8)
    try om.putKey("vol1", "bucket1", atLimit)
    try om.putKey("vol1", "bucket1", multibyteAtLimit)
    #expect(try om.submit(Requests.lookupKey("vol1", "bucket1", multibyteAtLimit)).status == .ok)
    let before = try om.fingerprint()
    let indexBefore = om.lastIndex
    for name in [atLimit + "k", multibyteAtLimit + "k", String(repeating: "é", count: 9), "", "a\u{0}b"] {
      for request in [
        Requests.createKey("vol1", "bucket1", name), Requests.lookupKey("vol1", "bucket1", name),
        Requests.deleteKey("vol1", "bucket1", name), Requests.renameKey("vol1", "bucket1", from: atLimit, to: name),
        Requests.deleteKeys("vol1", "bucket1", [name]), Requests.commitKey("vol1", "bucket1", name, session: 1, dataSize: 0),
      ] {
        let response = try om.submit(request)
        #expect(response.status == .invalidKeyName, "\(request.cmdType) \(name.utf8.count) bytes: \(response.message)")
      }
    }
    #expect(om.lastIndex == indexBefore)
    #expect(try om.fingerprint().rows == before.rows)
  }

  @Test func theDefaultKeyNameLimitIs4096Bytes() throws {
    let om = try OMHarness()
    try om.makeBucket()
    #expect(try om.submit(Requests.createKey("vol1", "bucket1", String(repeating: "k", count: 4_096))).status == .ok)
    let tooLong = try om.submit(Requests.createKey("vol1", "bucket1", String(repeating: "k", count: 4_097)))
    #expect(tooLong.status == .invalidKeyName)
    #expect(tooLong.message.contains("4096"))
  }
}
