/// Latencies in microseconds, counted in buckets a few parts per thousand wide, so a run of any
/// length keeps a fixed, small amount of memory.
///
/// Values below 512 µs have a bucket each; above, each power of two splits into 256 buckets.
public struct LatencyHistogram: Sendable, Equatable {
  static let subBucketBits = 8
  static let subBuckets = 1 << subBucketBits
  /// Slower calls (about 18 minutes) count as this long.
  public static let trackableMaximumMicroseconds: UInt64 = 1 << 30

  private var counts: [UInt64]
  public private(set) var count: UInt64 = 0
  public private(set) var maximum: UInt64 = 0
  private var sum: UInt64 = 0

  public init() {
    counts = [UInt64](repeating: 0, count: Self.bucketIndex(Self.trackableMaximumMicroseconds) + 1)
  }

  public mutating func record(_ microseconds: UInt64) {
    let value = min(microseconds, Self.trackableMaximumMicroseconds)
    counts[Self.bucketIndex(value)] += 1
    count += 1
    sum += value
    maximum = max(maximum, value)
  }

  public mutating func merge(_ other: LatencyHistogram) {
    for index in counts.indices { counts[index] += other.counts[index] }
    count += other.count
    sum += other.sum
    maximum = max(maximum, other.maximum)
  }

  public var mean: Double { count == 0 ? 0 : Double(sum) / Double(count) }

  /// The value of rank `percentile` percent (to its bucket's width, never above the maximum
  /// seen); 0 when empty.
  public func value(atPercentile percentile: Double) -> UInt64 {
    guard count > 0 else { return 0 }
    let rank = max(1, UInt64((percentile / 100 * Double(count)).rounded(.up)))
    var seen: UInt64 = 0
    for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
      seen += bucketCount
      if seen >= rank { return min(Self.representative(index), maximum) }
    }
    return maximum
  }

  static func bucketIndex(_ value: UInt64) -> Int {
    let direct = UInt64(2 * subBuckets)
    guard value >= direct else { return Int(value) }
    let shift = (64 - value.leadingZeroBitCount) - (subBucketBits + 1)
    return 2 * subBuckets + (shift - 1) * subBuckets + Int(value >> UInt64(shift)) - subBuckets
  }

  /// The middle of bucket `index`'s range.
  static func representative(_ index: Int) -> UInt64 {
    guard index >= 2 * subBuckets else { return UInt64(index) }
    let offset = index - 2 * subBuckets
    let shift = offset / subBuckets + 1
    let lowest = UInt64(offset % subBuckets + subBuckets) << UInt64(shift)
    return lowest + (UInt64(1) << UInt64(shift)) / 2
  }
}
