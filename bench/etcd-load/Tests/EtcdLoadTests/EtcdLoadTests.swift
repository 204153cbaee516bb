import NIOCore
import Testing

@testable import EtcdLoadCore

@Suite struct KVRequestTemplateTests {
  @Test func putMessageIsAFramedPutRequestWithTheIndexInTheKey() {
    let template = KVRequestTemplate(mode: .put, keySize: 16, valueSize: 100, serializable: false)
    let message = template.message(index: 4207, allocator: ByteBufferAllocator())
    let bytes = Array(message.readableBytesView)
    #expect(template.path == "/etcdserverpb.KV/Put")
    // 5-byte gRPC prefix: not compressed, then the protobuf's length, big-endian.
    #expect(bytes[0] == 0)
    #expect(Int(bytes[1]) << 24 | Int(bytes[2]) << 16 | Int(bytes[3]) << 8 | Int(bytes[4]) == bytes.count - 5)
    // Field 1 (key), length 16, then field 2 (value), length 100.
    #expect(bytes[5] == 0x0A)
    #expect(bytes[6] == 16)
    #expect(String(decoding: bytes[7..<23], as: UTF8.self) == "0000000000004207")
    #expect(bytes[23] == 0x12)
    #expect(bytes[24] == 100)
    #expect(bytes.count == 5 + 2 + 16 + 2 + 100)
  }

  @Test func rangeMessageIsLinearizableUnlessAskedOtherwise() {
    let linearizable = KVRequestTemplate(mode: .range, keySize: 4, valueSize: 100, serializable: false)
    #expect(linearizable.path == "/etcdserverpb.KV/Range")
    #expect(Array(linearizable.message(index: 12, allocator: ByteBufferAllocator()).readableBytesView)
      == [0, 0, 0, 0, 6, 0x0A, 4, 0x30, 0x30, 0x31, 0x32])
    let serializable = KVRequestTemplate(mode: .range, keySize: 4, valueSize: 100, serializable: true)
    #expect(Array(serializable.message(index: 12, allocator: ByteBufferAllocator()).readableBytesView).suffix(2)
      == [7 << 3, 1])
  }

  @Test func longFieldsGetMultiByteLengths() {
    let template = KVRequestTemplate(mode: .put, keySize: 16, valueSize: 300, serializable: false)
    let bytes = Array(template.message(index: 0, allocator: ByteBufferAllocator()).readableBytesView)
    // 300 = 0b10_0101100: varint bytes 0xAC 0x02.
    #expect(bytes[23...25] == [0x12, 0xAC, 0x02])
    #expect(bytes.count == 5 + 2 + 16 + 3 + 300)
  }
}

@Suite struct LatencyHistogramTests {
  @Test func percentilesAreExactBelowFiveHundredTwelveMicroseconds() {
    var histogram = LatencyHistogram()
    for value in 1...100 { histogram.record(UInt64(value)) }
    #expect(histogram.value(atPercentile: 50) == 50)
    #expect(histogram.value(atPercentile: 99) == 99)
    #expect(histogram.value(atPercentile: 100) == 100)
    #expect(histogram.maximum == 100)
    #expect(histogram.mean == 50.5)
  }

  @Test func largeValuesStayWithinTheirBucketWidth() {
    for value: UInt64 in [600, 1_234, 98_765, 12_345_678, 900_000_000] {
      var histogram = LatencyHistogram()
      histogram.record(value)
      histogram.record(value + 1_000_000_000)
      let found = histogram.value(atPercentile: 50)
      // 256 buckets per power of two: within 1/256 of the value.
      #expect(found.distance(to: value).magnitude <= value / 256 + 1, "\(value) -> \(found)")
    }
  }

  @Test func bucketsAreContiguousAndMergeAddsCounts() {
    var previous = LatencyHistogram.bucketIndex(0)
    var widestStep = 0
    for value in UInt64(1)..<(1 << 18) {
      let index = LatencyHistogram.bucketIndex(value)
      widestStep = max(widestStep, index - previous)
      previous = index
    }
    #expect(previous > 0)
    #expect(widestStep == 1)
    var first = LatencyHistogram()
    var second = LatencyHistogram()
    first.record(10)
    second.record(30)
    first.merge(second)
    #expect(first.count == 2)
    #expect(first.value(atPercentile: 100) == 30)
  }
}

@Suite struct LoadOptionsTests {
  @Test func parsesEtcdBenchmarkStyleOptions() throws {
    let options = try LoadOptions.parse([
      "put", "--endpoints=127.0.0.1:2379,http://127.0.0.1:22379", "--conns", "4", "--clients", "64",
      "--duration", "10s", "--key-size", "16", "--val-size", "100", "--json",
    ])
    #expect(options.mode == .put)
    #expect(options.endpoints == [Endpoint(host: "127.0.0.1", port: 2379), Endpoint(host: "127.0.0.1", port: 22379)])
    #expect(options.connections == 4)
    #expect(options.clients == 64)
    #expect(options.duration == .seconds(10))
    #expect(options.total == nil)
    #expect(options.json)
  }

  @Test func refusesWhatCannotRun() {
    #expect(throws: LoadOptionsError.self) { try LoadOptions.parse(["put", "--total", "5", "--duration", "1s"]) }
    #expect(throws: LoadOptionsError.self) { try LoadOptions.parse(["delete"]) }
    #expect(throws: LoadOptionsError.self) { try LoadOptions.parse(["--clients", "0"]) }
    #expect(throws: LoadOptionsError.self) { try LoadOptions.parse(["--key-size", "3", "--key-space-size", "100000"]) }
    #expect(throws: LoadOptionsError.self) { try LoadOptions.parse(["--endpoints", "localhost"]) }
  }
}
