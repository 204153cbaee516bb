import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A small tmpfs a test mounts to fill a disk on purpose, and unmounts by the mount point it
/// created. Needs root (or CAP_SYS_ADMIN); ``isPermitted`` tells whether this machine allows it.
public struct TmpfsMount: Sendable {
  public let path: String
  public let sizeBytes: Int

  /// Mounts a tmpfs of `sizeBytes` at `path`, which must be an empty directory.
  public static func mount(at path: String, sizeBytes: Int) throws -> TmpfsMount {
    let options = "size=\(sizeBytes),mode=0755"
    guard Glibc.mount("tmpfs", path, "tmpfs", 0, options) == 0 else {
      throw ManagedProcessError("cannot mount a tmpfs at \(path): \(String(cString: strerror(errno)))")
    }
    return TmpfsMount(path: path, sizeBytes: sizeBytes)
  }

  /// Unmounts it; a mount still in use (a process that was just killed) is detached instead.
  public func unmount() throws {
    if umount2(path, 0) == 0 { return }
    guard errno == EBUSY, umount2(path, Int32(MNT_DETACH)) == 0 else {
      throw ManagedProcessError("cannot unmount the tmpfs at \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Bytes still free for an unprivileged writer.
  public var freeBytes: Int {
    var stats = statvfs()
    guard statvfs(path, &stats) == 0 else { return 0 }
    return Int(stats.f_bavail) * Int(stats.f_frsize)
  }

  /// Whether this process may mount a tmpfs: tried once on a throwaway directory.
  public static let isPermitted: Bool = {
    let probe = FileManager.default.temporaryDirectory.appendingPathComponent("o3-tmpfs-probe-\(UUID().uuidString)").path
    guard (try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)) != nil else {
      return false
    }
    defer { try? FileManager.default.removeItem(atPath: probe) }
    guard let mounted = try? TmpfsMount.mount(at: probe, sizeBytes: 64 << 10) else { return false }
    return (try? mounted.unmount()) != nil
  }()
}
