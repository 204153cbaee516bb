import OMMetadata
import OMProto
import O3TestSupport
import Testing

/// Every read and listing must give the same answer whether a change is still only in the cache
/// (the flush held back on purpose), already in RocksDB, or split between the two.
@Suite(.watchdog, .ownThreads) struct ListingWhileFlushLagsTests {
  /// A reference model: what the key table should say, by key bytes (Swift would merge the
  /// canonically equal "é" and "e\u{301}", which RocksDB keeps apart).
  typealias Model = [[UInt8]: KeyInfo]

  @Test(arguments: [1, 2, 3, 4, 5])
  func randomChangesReadTheSameInEveryFlushState(seed: UInt64) throws {
    let fixture = try StoreFixture()
    defer { fixture.close() }
    var random = SplitMix64(seed: seed)
    var model: Model = [:]
    let universe = (0..<60).map { "k\(String($0, radix: 7))" } + ["a", "a/", "a/b", "a\u{FF}", "é", "e\u{301}", "zz"]
    var index: UInt64 = 0
    for phase in 0..<6 {
      fixture.buffer.holdFlushes()
      for _ in 0..<40 {
        index += 1
        var part = OMBatchPart()
        for _ in 0..<Int(random.next(below: 3) + 1) {
          let name = universe[Int(random.next(below: UInt64(universe.count)))]
          let bytes = OMKeys.key("vol", "bkt", name)
          if random.next(below: 3) == 0 {
            part.keys.append(TableChange(key: bytes, value: nil))
            model[Array(name.utf8)] = nil
          } else {
            let info = makeKey("vol", "bkt", name, size: index)
            part.keys.append(TableChange(key: bytes, value: info))
            model[Array(name.utf8)] = info
          }
        }
        fixture.apply(part, index: index)
      }
      // Phases alternate: even ones are checked with everything still in the cache.
      if phase % 2 == 1 {
        fixture.buffer.releaseFlushes()
        fixture.buffer.awaitFlush()
      }
      try checkEveryRead(fixture.store, model: model, universe: universe, random: &random)
    }
    fixture.buffer.releaseFlushes()
    fixture.buffer.awaitFlush()
    #expect(fixture.store.keyTable.cache.count == 0, "flushed entries are evicted")
    try checkEveryRead(fixture.store, model: model, universe: universe, random: &random)
    #expect(try fixture.store.transactionInfo() == TermIndex(term: 1, index: index))
  }

  private func checkEveryRead(
    _ store: OMMetadataStore, model: Model, universe: [String], random: inout SplitMix64
  ) throws {
    for name in universe {
      let got = try store.keyTable.get(OMKeys.key("vol", "bkt", name))
      #expect(got == model[Array(name.utf8)], "get \(name)")
    }
    // Other buckets' rows must never leak into this bucket's listing.
    #expect(try store.keyTable.list(prefix: OMKeys.keyPrefix("vol", "bk"), startAfter: nil, limit: 1000).rows.isEmpty)
    let sortedNames = model.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { String(decoding: $0, as: UTF8.self) }
    for _ in 0..<30 {
      let prefix = ["", "a", "k", "k1", "a/", "zz", "q"][Int(random.next(below: 7))]
      let start: String? = random.next(below: 3) == 0 ? nil : universe[Int(random.next(below: UInt64(universe.count)))]
      let limit = Int(random.next(below: 12))
      let expected = sortedNames.filter {
        name in name.hasPrefixBytes(prefix) && (start.map { Array($0.utf8).lexicographicallyPrecedes(Array(name.utf8)) } ?? true)
      }
      let page = try store.keyTable.list(
        prefix: OMKeys.key("vol", "bkt", prefix), startAfter: start.map { OMKeys.key("vol", "bkt", $0) }, limit: limit)
      #expect(page.rows.map(\.value.keyName) == Array(expected.prefix(limit)), "list prefix=\(prefix) start=\(start ?? "-") limit=\(limit)")
      #expect(page.isTruncated == (expected.count > limit))
    }
  }

  @Test func startKeyIsExclusiveAndNeedNotExist() throws {
    let fixture = try StoreFixture()
    defer { fixture.close() }
    fixture.buffer.holdFlushes()
    var part = OMBatchPart()
    for name in ["a", "b", "c", "d"] {
      part.keys.append(TableChange(key: OMKeys.key("v", "b", name), value: makeKey("v", "b", name)))
    }
    fixture.apply(part, index: 1)
    func names(after start: String?, limit: Int) throws -> ([String], Bool) {
      let page = try fixture.store.keyTable.list(
        prefix: OMKeys.keyPrefix("v", "b"), startAfter: start.map { OMKeys.key("v", "b", $0) }, limit: limit)
      return (page.rows.map(\.value.keyName), page.isTruncated)
    }
    #expect(try names(after: "b", limit: 10) == (["c", "d"], false))
    #expect(try names(after: "bb", limit: 10) == (["c", "d"], false))
    #expect(try names(after: nil, limit: 2) == (["a", "b"], true))
    #expect(try names(after: "d", limit: 2) == ([], false))
    fixture.buffer.releaseFlushes()
    fixture.buffer.awaitFlush()
    #expect(try names(after: "b", limit: 10) == (["c", "d"], false))
    #expect(try names(after: nil, limit: 2) == (["a", "b"], true))
  }

  @Test func tombstoneInCacheHidesFlushedRow() throws {
    let fixture = try StoreFixture()
    defer { fixture.close() }
    var create = OMBatchPart()
    create.keys = ["x", "y"].map { TableChange(key: OMKeys.key("v", "b", $0), value: makeKey("v", "b", $0)) }
    fixture.apply(create, index: 1)
    fixture.buffer.awaitFlush()
    fixture.buffer.holdFlushes()
    var delete = OMBatchPart()
    delete.keys = [TableChange(key: OMKeys.key("v", "b", "x"), value: nil)]
    fixture.apply(delete, index: 2)
    #expect(try fixture.store.keyTable.get(OMKeys.key("v", "b", "x")) == nil)
    #expect(try fixture.store.keyTable.getSkipCache(OMKeys.key("v", "b", "x")) != nil, "RocksDB still has it")
    let page = try fixture.store.keyTable.list(prefix: OMKeys.keyPrefix("v", "b"), startAfter: nil, limit: 1)
    #expect(page.rows.map(\.value.keyName) == ["y"])
    #expect(page.isTruncated == false)
    fixture.buffer.releaseFlushes()
  }
}

extension String {
  func hasPrefixBytes(_ prefix: String) -> Bool { Array(utf8).starts(with: Array(prefix.utf8)) }
}

/// A small seeded generator so that every run of a test sees the same sequence.
struct SplitMix64 {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }

  mutating func next(below bound: UInt64) -> UInt64 { next() % bound }
}
