/// The name of a segment file, Ratis' scheme: `log_inprogress_<first>` while the segment takes
/// appends, `log_<first>-<last>` once it is closed (indexes in decimal).
enum SegmentFileName: Hashable, Sendable {
  case open(first: UInt64)
  case closed(first: UInt64, last: UInt64)

  static let openPrefix = "log_inprogress_"
  static let closedPrefix = "log_"

  var first: UInt64 {
    switch self {
    case .open(let first), .closed(let first, _): first
    }
  }

  var isOpen: Bool {
    if case .open = self { return true }
    return false
  }

  var name: String {
    switch self {
    case .open(let first): "\(Self.openPrefix)\(first)"
    case .closed(let first, let last): "\(Self.closedPrefix)\(first)-\(last)"
    }
  }

  /// The segment a file name denotes, or nil when the name is not one this log writes (so a
  /// name with leading zeros or a reversed range is not taken for a segment).
  init?(parsing name: String) {
    if name.hasPrefix(Self.openPrefix) {
      guard let first = UInt64(name.dropFirst(Self.openPrefix.count)), first > 0 else { return nil }
      self = .open(first: first)
    } else if name.hasPrefix(Self.closedPrefix) {
      let bounds = name.dropFirst(Self.closedPrefix.count).split(
        separator: "-", omittingEmptySubsequences: false)
      guard bounds.count == 2, let first = UInt64(bounds[0]), let last = UInt64(bounds[1]),
        first > 0, first <= last
      else { return nil }
      self = .closed(first: first, last: last)
    } else {
      return nil
    }
    guard self.name == name else { return nil }
  }
}
