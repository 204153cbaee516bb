#if canImport(Glibc)
  import Glibc
#endif

/// Names the calling thread as `top -H`, `perf` and `/proc/<pid>/task/*/comm` show it (Linux keeps
/// 15 bytes). Foundation's `Thread.name` does not reach the kernel on Linux, and Glibc's
/// `pthread_setname_np` is not visible to Swift, so this writes `/proc/thread-self/comm`.
public func nameCurrentThread(_ name: String) {
  #if os(Linux)
    let descriptor = open("/proc/thread-self/comm", O_WRONLY)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
  #endif
}
