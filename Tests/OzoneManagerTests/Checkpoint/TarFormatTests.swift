import OzoneManager
import O3TestSupport
import Testing

/// The ustar writer and the incremental reader agree, whatever the chunking.
@Suite(.watchdog) struct TarFormatTests {
  @Test func entriesRoundTripFedOneByteAtATime() throws {
    let contents: [(String, [UInt8])] = [("a.sst", Array(0..<200).map { UInt8($0) }), ("EMPTY", []), ("block", [UInt8](repeating: 9, count: 512))]
    var archive: [UInt8] = []
    for (name, bytes) in contents {
      archive += try OMTarFormat.header(name: name, sizeBytes: UInt64(bytes.count))
      archive += bytes + OMTarFormat.padding(forSizeBytes: UInt64(bytes.count))
    }
    archive += OMTarFormat.endOfArchive
    #expect(archive.count % OMTarFormat.blockBytes == 0)
    var reader = OMTarReader()
    var entries: [(String, [UInt8])] = []
    var ended = false
    for byte in archive {
      for event in try reader.consume([byte]) {
        switch event {
        case .entryStart(let name, _): entries.append((name, []))
        case .data(let chunk): entries[entries.count - 1].1 += chunk
        case .entryEnd: break
        case .archiveEnd: ended = true
        }
      }
    }
    #expect(ended && reader.isFinished)
    #expect(entries.map(\.0) == contents.map(\.0))
    #expect(entries.map(\.1) == contents.map(\.1))
  }

  @Test func sizesBeyondTheOctalFieldUseBase256() throws {
    let sizeBytes: UInt64 = 20 * 1024 * 1024 * 1024
    var reader = OMTarReader()
    let events = try reader.consume(try OMTarFormat.header(name: "big.sst", sizeBytes: sizeBytes))
    #expect(events == [.entryStart(name: "big.sst", sizeBytes: sizeBytes)])
  }

  @Test func corruptHeadersAndLongNamesAreRefused() throws {
    var header = try OMTarFormat.header(name: "x", sizeBytes: 1)
    header[0] = UInt8(ascii: "y")
    var reader = OMTarReader()
    #expect(throws: OMCheckpointError.self) { try reader.consume(header) }
    #expect(throws: OMCheckpointError.self) { try OMTarFormat.header(name: String(repeating: "n", count: 101), sizeBytes: 0) }
  }
}
