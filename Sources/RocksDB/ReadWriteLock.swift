#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A reader–writer lock: any number of readers at once, or one writer alone.
///
/// RocksDB calls run concurrently under the read side; `close()` takes the write side so that it
/// waits for calls in flight and no call ever meets a freed handle. The lock lives on the heap
/// because a pthread lock must never move.
final class ReadWriteLock: @unchecked Sendable {
  // Safe to share: the pthread lock is made for concurrent use and is never moved or reassigned.
  private let lock: UnsafeMutablePointer<pthread_rwlock_t>

  init() {
    lock = .allocate(capacity: 1)
    var attributes = pthread_rwlockattr_t()
    pthread_rwlockattr_init(&attributes)
    #if canImport(Glibc)
      // Writers first, so that a steady stream of reads cannot starve close(). This kind deadlocks
      // a thread that takes the read side twice; nothing here does, because no caller code ever
      // runs while the lock is held.
      pthread_rwlockattr_setkind_np(
        &attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
    #endif
    let status = pthread_rwlock_init(lock, &attributes)
    precondition(status == 0, "pthread_rwlock_init failed: \(status)")
    pthread_rwlockattr_destroy(&attributes)
  }

  deinit {
    pthread_rwlock_destroy(lock)
    lock.deallocate()
  }

  func withReadLock<Result>(_ body: () throws -> Result) rethrows -> Result {
    let status = pthread_rwlock_rdlock(lock)
    precondition(status == 0, "pthread_rwlock_rdlock failed: \(status)")
    defer { pthread_rwlock_unlock(lock) }
    return try body()
  }

  func withWriteLock<Result>(_ body: () throws -> Result) rethrows -> Result {
    let status = pthread_rwlock_wrlock(lock)
    precondition(status == 0, "pthread_rwlock_wrlock failed: \(status)")
    defer { pthread_rwlock_unlock(lock) }
    return try body()
  }
}
