/// Reads a ustar stream as it arrives, chunk by chunk, without holding an entry in memory.
///
/// Reads what `OMTarFormat` writes: regular files only. Feed each received chunk to `consume`
/// and act on the events in order; `isFinished` turns true at the end-of-archive block.
public struct OMTarReader: Sendable {
  /// What the bytes consumed so far revealed, in stream order.
  public enum Event: Sendable, Equatable {
    case entryStart(name: String, sizeBytes: UInt64)
    /// Some of the current entry's contents (never padding).
    case data([UInt8])
    case entryEnd
    case archiveEnd
  }

  private enum State: Sendable {
    case header
    case contents(remainingBytes: UInt64, paddingBytes: Int)
    case padding(remainingBytes: Int)
    case finished
  }

  private var state = State.header
  /// Bytes of a header block received so far (a block may span chunks).
  private var partialHeader: [UInt8] = []

  public init() {}

  public var isFinished: Bool {
    if case .finished = state { return true }
    return false
  }

  public mutating func consume(_ bytes: [UInt8]) throws -> [Event] {
    var events: [Event] = []
    var position = 0
    while position < bytes.count {
      switch state {
      case .finished:
        // Trailing zero blocks (and a writer's record padding) are allowed, nothing else.
        guard bytes[position...].allSatisfy({ $0 == 0 }) else {
          throw OMCheckpointError(.malformedArchive, "bytes follow the end of the archive")
        }
        return events
      case .header:
        let taken = min(OMTarFormat.blockBytes - partialHeader.count, bytes.count - position)
        partialHeader += bytes[position..<position + taken]
        position += taken
        guard partialHeader.count == OMTarFormat.blockBytes else { continue }
        let parsed = try OMTarFormat.parseHeader(partialHeader[...])
        partialHeader = []
        guard let (name, sizeBytes) = parsed else {
          state = .finished
          events.append(.archiveEnd)
          continue
        }
        events.append(.entryStart(name: name, sizeBytes: sizeBytes))
        let paddingBytes = OMTarFormat.padding(forSizeBytes: sizeBytes).count
        if sizeBytes == 0 {
          events.append(.entryEnd)
          state = .header
        } else {
          state = .contents(remainingBytes: sizeBytes, paddingBytes: paddingBytes)
        }
      case .contents(let remainingBytes, let paddingBytes):
        let taken = Int(min(remainingBytes, UInt64(bytes.count - position)))
        events.append(.data(Array(bytes[position..<position + taken])))
        position += taken
        let left = remainingBytes - UInt64(taken)
        if left > 0 {
          state = .contents(remainingBytes: left, paddingBytes: paddingBytes)
        } else {
          events.append(.entryEnd)
          state = paddingBytes > 0 ? .padding(remainingBytes: paddingBytes) : .header
        }
      case .padding(let remainingBytes):
        let taken = min(remainingBytes, bytes.count - position)
        position += taken
        state = remainingBytes - taken > 0 ? .padding(remainingBytes: remainingBytes - taken) : .header
      }
    }
    return events
  }
}
