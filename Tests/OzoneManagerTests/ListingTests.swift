import OMDomain
import OMMetadata
import OMProto
import OzoneManager
import O3TestSupport
import Testing

/// ListVolume, ListBuckets and ListKeys: sorted by name, prefix, exclusive start, page capped at
/// `listMaxSize` with `isTruncated`; the same answers whether rows are still only in the cache
/// (flush held) or already in RocksDB.
@Suite(.watchdog, .ownThreads) struct ListingTests {
  @Test func listVolumesByClusterPrefixStartAndPages() throws {
    let om = try OMHarness()
    for name in ["vol-b", "vol-a", "other", "vol-c", "vol-d"] { try om.succeed(Requests.createVolume(name)) }
    func names(_ request: OMRequest) throws -> (names: [String], truncated: Bool) {
      let response = try om.submit(request)
      #expect(response.status == .ok, "\(response.message)")
      return (response.listVolumeResponse.volumeInfo.map(\.volume), response.listVolumeResponse.isTruncated)
    }
    #expect(try names(Requests.listVolumes()).names == ["other", "vol-a", "vol-b", "vol-c", "vol-d"])
    #expect(try names(Requests.listVolumes(prefix: "vol-")).names == ["vol-a", "vol-b", "vol-c", "vol-d"])
    #expect(try names(Requests.listVolumes(prefix: "vol-", startAfter: "vol-b")).names == ["vol-c", "vol-d"])
    #expect(try names(Requests.listVolumes(startAfter: "vol-bb")).names == ["vol-c", "vol-d"],
      "the start need not exist")
    let page = try names(Requests.listVolumes(prefix: "vol-", maxKeys: 2))
    #expect(page.names == ["vol-a", "vol-b"] && page.truncated)
    let last = try names(Requests.listVolumes(prefix: "vol-", startAfter: "vol-b", maxKeys: 2))
    #expect(last.names == ["vol-c", "vol-d"] && !last.truncated, "an exactly full last page is not truncated")
    #expect(try names(Requests.listVolumes(prefix: "zzz")).names.isEmpty)
  }

  @Test func listVolumesByUserShowsOnlyThatOwnersVolumes() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1", owner: "dave"))
    try om.succeed(Requests.createVolume("vol2", owner: "erin"))
    try om.succeed(Requests.createVolume("vol3", owner: "dave"))
    try om.succeed(Requests.createVolume("vol4", owner: "dave"))
    var response = try om.submit(Requests.listVolumes(user: "dave"))
    #expect(response.listVolumeResponse.volumeInfo.map(\.volume) == ["vol1", "vol3", "vol4"])
    response = try om.submit(Requests.listVolumes(user: "dave", maxKeys: 2))
    #expect(response.listVolumeResponse.volumeInfo.map(\.volume) == ["vol1", "vol3"])
    #expect(response.listVolumeResponse.isTruncated)
    response = try om.submit(Requests.listVolumes(user: "dave", startAfter: "vol3", maxKeys: 2))
    #expect(response.listVolumeResponse.volumeInfo.map(\.volume) == ["vol4"])
    #expect(!response.listVolumeResponse.isTruncated, "erin's vol2 does not make dave's page look truncated")
    try om.succeed(Requests.setVolumeProperty("vol2", owner: "dave"))
    response = try om.submit(Requests.listVolumes(user: "dave"))
    #expect(response.listVolumeResponse.volumeInfo.map(\.volume) == ["vol1", "vol2", "vol3", "vol4"])
    #expect(try om.submit(Requests.listVolumes(user: "nobody")).listVolumeResponse.volumeInfo.isEmpty)
  }

  @Test func listVolumesRefusesAMissingScopeOrUser() throws {
    let om = try OMHarness()
    var request = Requests.listVolumes()
    request.listVolumeRequest.scope = .unspecified
    #expect(try om.submit(request).status == .invalidRequest)
    request.listVolumeRequest.scope = .volumesByUser
    #expect(try om.submit(request).status == .invalidRequest, "listing by user needs the user")
    request.listVolumeRequest.scope = .UNRECOGNIZED(9)
    #expect(try om.submit(request).status == .invalidRequest)
  }

  @Test func pagesAreCappedAtListMaxSize() throws {
    let om = try OMHarness()
    om.limits.listMaxSize = 3
    try om.makeBucket()
    for index in 0..<4 {
      try om.succeed(Requests.createVolume("extra\(index)"))
      try om.succeed(Requests.createBucket("vol1", "bucket-\(index)"))
      try om.putKey("vol1", "bucket1", "key\(index)")
    }
    for asked in [UInt32(0), 10] {
      let volumes = try om.submit(Requests.listVolumes(maxKeys: asked)).listVolumeResponse
      #expect(volumes.volumeInfo.count == 3 && volumes.isTruncated)
      let buckets = try om.submit(Requests.listBuckets("vol1", count: asked)).listBucketsResponse
      #expect(buckets.bucketInfo.count == 3 && buckets.isTruncated)
      let keys = try om.submit(Requests.listKeys("vol1", "bucket1", count: asked)).listKeysResponse
      #expect(keys.keyInfo.count == 3 && keys.isTruncated)
    }
    let small = try om.submit(Requests.listKeys("vol1", "bucket1", count: 2)).listKeysResponse
    #expect(small.keyInfo.map(\.keyName) == ["key0", "key1"] && small.isTruncated, "a smaller request is honoured")
  }

  @Test func listBucketsStaysInsideItsVolume() throws {
    let om = try OMHarness()
    try om.succeed(Requests.createVolume("vol1"))
    try om.succeed(Requests.createVolume("vol10"))
    for name in ["logs", "data-b", "data-a"] { try om.succeed(Requests.createBucket("vol1", name)) }
    try om.succeed(Requests.createBucket("vol10", "data-c"))
    func names(_ request: OMRequest) throws -> [String] {
      try om.submit(request).listBucketsResponse.bucketInfo.map(\.bucketName)
    }
    #expect(try names(Requests.listBuckets("vol1")) == ["data-a", "data-b", "logs"])
    #expect(try names(Requests.listBuckets("vol1", prefix: "data")) == ["data-a", "data-b"])
    #expect(try names(Requests.listBuckets("vol1", startAfter: "data-a")) == ["data-b", "logs"])
    #expect(try names(Requests.listBuckets("vol1", prefix: "data", startAfter: "data-b")).isEmpty)
    #expect(try names(Requests.listBuckets("vol10")) == ["data-c"])
    #expect(try om.submit(Requests.listBuckets("nosuch")).status == .volumeNotFound)
    #expect(try om.submit(Requests.listBuckets("NOSUCH")).status == .invalidVolumeName)
  }

  @Test func listKeysPrefixStartAndPagingCoverEveryKeyOnce() throws {
    let om = try OMHarness()
    try om.makeBucket()
    try om.succeed(Requests.createBucket("vol1", "bucket10"))
    let names = (0..<23).map { "photos/\(String(format: "%03d", $0))" } + ["docs/a", "docs/b", "readme"]
    for name in names.reversed() { try om.putKey("vol1", "bucket1", name) }
    try om.putKey("vol1", "bucket10", "photos/999")
    try om.succeed(Requests.createKey("vol1", "bucket1", "photos/open"))
    var seen: [String] = []
    var start = ""
    var pages = 0
    while true {
      let page = try om.submit(Requests.listKeys("vol1", "bucket1", prefix: "photos/", startAfter: start, count: 5))
        .listKeysResponse
      seen += page.keyInfo.map(\.keyName)
      pages += 1
      guard page.isTruncated, let last = page.keyInfo.last else { break }
      start = last.keyName
    }
    #expect(seen == names.filter { $0.hasPrefix("photos/") }.sorted(), "sorted, complete, no repeats, no open key")
    #expect(pages == 5)
    let docs = try om.submit(Requests.listKeys("vol1", "bucket1", prefix: "docs/", startAfter: "docs/a"))
    #expect(docs.listKeysResponse.keyInfo.map(\.keyName) == ["docs/b"])
    let all = try om.submit(Requests.listKeys("vol1", "bucket1")).listKeysResponse
    #expect(all.keyInfo.count == names.count && !all.isTruncated)
  }

  /// Every listing and lookup answers the same from the cache alone (flush held) as from
  /// RocksDB after the flush, including renames and deletes that only the cache knows.
  @Test func readsWhileTheFlushIsHeldMatchReadsAfterIt() throws {
    let om = try OMHarness()
    try om.makeBucket()
    for index in 0..<6 { try om.putKey("vol1", "bucket1", "key\(index)", dataSize: UInt64(index)) }
    om.doubleBuffer.awaitFlush()
    om.doubleBuffer.holdFlushes()
    let flushedBefore = om.doubleBuffer.flushedTermIndex
    try om.succeed(Requests.createVolume("vol2"))
    try om.succeed(Requests.createBucket("vol1", "bucket0"))
    try om.succeed(Requests.deleteKey("vol1", "bucket1", "key2"))
    try om.succeed(Requests.renameKey("vol1", "bucket1", from: "key4", to: "key9"))
    try om.putKey("vol1", "bucket1", "key1", dataSize: 50)
    try om.putKey("vol1", "bucket1", "key7", dataSize: 7)
    let queries = [
      Requests.listVolumes(), Requests.listBuckets("vol1"), Requests.listKeys("vol1", "bucket1"),
      Requests.listKeys("vol1", "bucket1", startAfter: "key2", count: 3), Requests.lookupKey("vol1", "bucket1", "key2"),
      Requests.lookupKey("vol1", "bucket1", "key9"), Requests.lookupKey("vol1", "bucket1", "key1"),
      Requests.infoBucket("vol1", "bucket1"), Requests.infoVolume("vol2"),
    ]
    let fromCache = try queries.map { try om.submit($0) }
    #expect(om.doubleBuffer.flushedTermIndex == flushedBefore, "nothing was flushed while held")
    let keys = fromCache[2].listKeysResponse.keyInfo.map(\.keyName)
    #expect(keys == ["key0", "key1", "key3", "key5", "key7", "key9"])
    #expect(fromCache[3].listKeysResponse.keyInfo.map(\.keyName) == ["key3", "key5", "key7"])
    #expect(fromCache[3].listKeysResponse.isTruncated)
    #expect(fromCache[4].status == .keyNotFound)
    #expect(fromCache[6].lookupKeyResponse.keyInfo.dataSize == 50)
    om.doubleBuffer.releaseFlushes()
    om.doubleBuffer.awaitFlush()
    let fromDatabase = try queries.map { try om.submit($0) }
    #expect(fromDatabase == fromCache)
    #expect(om.store.keyTable.cache.count == 0, "every key change was flushed and evicted")
  }
}
