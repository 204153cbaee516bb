@testable import OzoneManager
import O3TestSupport
import Testing

/// preExecute's ids are unique within a process and differ between processes (seeds).
@Suite(.watchdog) struct RequestIDGeneratorTests {
  @Test func idsDoNotRepeatAndAreNeverZero() {
    let generator = RequestIDGenerator(seed: 0)
    var seen = Set<UInt64>()
    for _ in 0..<200_000 { seen.insert(generator.next()) }
    #expect(seen.count == 200_000)
    #expect(!seen.contains(0))
  }

  @Test func anotherSeedGivesOtherIds() {
    let first = RequestIDGenerator(seed: 1)
    let second = RequestIDGenerator(seed: 2)
    let firstIDs = Set((0..<10_000).map { _ in first.next() })
    let secondIDs = Set((0..<10_000).map { _ in second.next() })
    #expect(firstIDs.isDisjoint(with: secondIDs))
  }
}
