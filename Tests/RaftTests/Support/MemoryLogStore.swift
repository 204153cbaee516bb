import Raft
import RaftCore
import Synchronization

/// `MemoryRaftStorage` behind a lock, as a `RaftLogStore` test double (the real store is
/// `DurableRaftLog`); counts syncs like a disk would see them.
final class MemoryLogStore: RaftLogStore {
  private let storage: Mutex<MemoryRaftStorage>

  init() {
    storage = Mutex(MemoryRaftStorage(hardState: HardState(), snapshot: SnapshotMetadata(last: .zero, membership: .empty), entries: []))
  }

  var hardState: HardState { storage.withLock { $0.hardState } }
  var snapshot: SnapshotMetadata { storage.withLock { $0.snapshot } }
  var firstIndex: UInt64 { storage.withLock { $0.firstIndex } }
  var lastIndex: UInt64 { storage.withLock { $0.lastIndex } }

  func term(at index: UInt64) throws(RaftStorageError) -> UInt64 {
    try storage.withLock { storage throws(RaftStorageError) in try storage.term(at: index) }
  }

  func entries(in range: Range<UInt64>, payloadBytesMax: Int) throws(RaftStorageError) -> [LogEntry] {
    try storage.withLock { storage throws(RaftStorageError) in try storage.entries(in: range, payloadBytesMax: payloadBytesMax) }
  }

  func append(_ entries: [LogEntry]) throws { storage.withLock { $0.append(entries) } }
  func setHardState(_ state: HardState) throws { storage.withLock { $0.setHardState(state) } }
  func sync() throws {}
  func installSnapshot(_ metadata: SnapshotMetadata) throws { storage.withLock { $0.applySnapshot(metadata) } }
  func purge(through index: UInt64) throws { storage.withLock { $0.compact(through: index) } }
}
