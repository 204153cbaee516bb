import Foundation
import OMMetadata
import OMProto
import OzoneManager
import Testing

/// A client-chosen size must never stop the OM. CommitKey takes `dataSize` from the client
/// unchecked and computes `dataSize × replicationFactor` and `usedBytes + added` with trapping
/// arithmetic (KeyRequestSupport.replicatedBytes, CommitKey.apply), so a large size traps the
/// apply thread. Under Raft every replica applies the same entry and stops, and restarting
/// replays it. Each case runs in a child process (an exit test) because a trap ends the process.
@Suite struct UsageOverflowTests {
  @Test func aSizeWhoseReplicasOverflowDoesNotStopTheOM() async {
    await withKnownIssue("CommitKey traps on dataSize × factor overflow (KeyRequestSupport.replicatedBytes)") {
      await #expect(processExitsWith: .success) {
        let om = try OMHarness("replicatedOverflow")
        try om.makeBucket()
        let session = try om.succeed(Requests.createKey("vol1", "bucket1", "huge")).createKeyResponse.clientID
        try om.submit(Requests.commitKey("vol1", "bucket1", "huge", session: session, dataSize: UInt64.max / 2))
      }
    }
  }

  @Test func usageThatWouldOverflowDoesNotStopTheOM() async {
    await withKnownIssue("CommitKey traps when usedBytes + added overflows (CommitKey.apply)") {
      await #expect(processExitsWith: .success) {
        let om = try OMHarness("usageOverflow")
        try om.makeBucket()
        for name in ["first", "second"] {
          let session = try om.succeed(Requests.createKey("vol1", "bucket1", name, factor: 1)).createKeyResponse.clientID
          try om.submit(Requests.commitKey("vol1", "bucket1", name, session: session, dataSize: UInt64(1) << 63))
        }
      }
    }
  }

  /// The same sizes stay harmless where only the bucket's own arithmetic is involved: a size that
  /// fits is stored exactly and counted exactly.
  @Test func aLargeSizeThatFitsIsCountedExactly() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.putKey("vol1", "bucket1", "large", dataSize: UInt64(1) << 60, factor: 3)
    #expect(try om.bucket("vol1", "bucket1")?.usedBytes == 3 << 60)
    try om.succeed(Requests.deleteKey("vol1", "bucket1", "large"))
    #expect(try om.bucket("vol1", "bucket1")?.usedBytes == 0)
  }
}
