import Foundation
import O3Threads

#if canImport(Glibc)
  import Glibc
#endif

/// What every thread of this process is doing, read without help from any other thread: the
/// kernel's view from /proc, and backtraces from gdb when it is installed.
enum ThreadDump {
  /// One line per thread: tid, name, state, wait channel, system call.
  static func kernelStates() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap(Int.init).sorted().map { tid in
      let directory = "/proc/self/task/\(tid)"
      let name = read("\(directory)/comm")
      let wchan = read("\(directory)/wchan")
      let syscall = read("\(directory)/syscall").split(separator: " ").first.map(String.init) ?? "?"
      return "\(tid) \"\(name)\" \(state(read("\(directory)/stat"))) wchan=\(wchan.isEmpty ? "-" : wchan) syscall=\(syscallName(syscall))"
    }
  }

  /// Backtraces of the threads running a Swift job, and where the whole dump was written.
  static func poolBacktraces() -> String {
    guard let gdb = executable(named: "gdb") else {
      return "(gdb is not installed: no backtraces; apt-get install gdb to have them)\n"
    }
    let dumpPath = FileManager.default.temporaryDirectory.appendingPathComponent("o3-watchdog-\(getpid())-\(time(nil)).txt").path
    // gdb stops every thread of this process while it reads them, the watchdog's own included,
    // so the time limit and the wake-up must come from outside: a shell, not stopped, kills gdb
    // after gdbSecondsMax and then sends SIGCONT (a tracer that dies can leave its tracee
    // stopped; a hung gdb was seen once).
    let gdbCommand = [
      gdb, "-p", "\(getpid())", "-batch", "-nx", "-iex", "set debuginfod enabled off", "-ex", "set pagination off",
      "-ex", "set print frame-arguments none", "-ex", "thread apply all bt 40",
    ].map(shellQuoted).joined(separator: " ")
    let script = "timeout -s KILL \(gdbSecondsMax) \(gdbCommand); status=$?; kill -CONT \(getpid()); exit $status"
    guard runToFile(["/bin/sh", "-c", script], output: dumpPath, timeoutSeconds: gdbSecondsMax + 30) else {
      return "(gdb did not finish in \(gdbSecondsMax) s; partial dump in \(dumpPath))\n"
    }
    var raw = read(dumpPath)
    if let demangler = executable(named: "swift-demangle") {
      let demangledPath = dumpPath + ".demangled"
      if runToFile([demangler, "--simplified"], input: dumpPath, output: demangledPath, timeoutSeconds: 60) {
        raw = read(demangledPath)
        try? raw.write(toFile: dumpPath, atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: demangledPath)
      }
    }
    let blocks = poolJobBlocks(threadBlocks(raw))
    var text = "pool threads running a Swift job (\(blocks.count)); every thread's backtrace is in \(dumpPath)\n"
    for block in blocks { text += block + "\n" }
    return text
  }

  /// How long gdb may hold this process stopped.
  static let gdbSecondsMax = 90

  private static func shellQuoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// The blocks of threads running a Swift job on the cooperative pool: the `.ownThreads`
  /// executor's threads (`o3-test-job`) also run jobs, but they cannot stall the pool.
  static func poolJobBlocks(_ blocks: [String]) -> [String] {
    blocks.filter { block in
      let header = block.prefix { $0 != "\n" }
      return (block.contains("swift_job_run") || block.contains("swift::runJob"))
        && !header.contains("\"\(ThreadPerJobExecutor.threadName)\"")
    }
  }

  /// Splits gdb's `thread apply all bt` output into one block per thread.
  static func threadBlocks(_ text: String) -> [String] {
    var blocks: [String] = []
    var current: [Substring] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("Thread ") {
        if !current.isEmpty { blocks.append(current.joined(separator: "\n")) }
        current = [line]
      } else if !current.isEmpty, line.hasPrefix("#") {
        current.append(line.count > 240 ? line.prefix(240) + "…" : line)
      }
    }
    if !current.isEmpty { blocks.append(current.joined(separator: "\n")) }
    return blocks
  }

  /// The state letter of a /proc stat line, spelled out.
  private static func state(_ stat: String) -> String {
    guard let close = stat.lastIndex(of: ")") else { return "?" }
    let letter = stat[stat.index(after: close)...].split(separator: " ").first ?? "?"
    let names = ["R": "running", "S": "sleeping", "D": "disk-wait", "T": "stopped", "t": "traced", "Z": "zombie"]
    return names[String(letter)] ?? String(letter)
  }

  /// x86_64 and aarch64 numbers of the calls a stalled thread usually sits in.
  private static func syscallName(_ number: String) -> String {
    #if arch(x86_64)
      let names = [
        "0": "read", "1": "write", "7": "poll", "23": "select", "35": "nanosleep", "61": "wait4", "74": "fsync",
        "202": "futex", "230": "clock_nanosleep", "232": "epoll_wait", "247": "waitid", "270": "pselect6", "271": "ppoll", "281": "epoll_pwait",
        "running": "running",
      ]
    #else
      let names = [
        "63": "read", "64": "write", "73": "ppoll", "82": "fsync", "98": "futex", "101": "nanosleep", "115": "clock_nanosleep",
        "22": "epoll_pwait", "95": "waitid", "260": "wait4", "running": "running",
      ]
    #endif
    return names[number].map { "\($0)(\(number))" } ?? number
  }

  private static func read(_ path: String) -> String {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
  }

  private static func executable(named name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let candidates = path.split(separator: ":").map { "\($0)/\(name)" } + ["/usr/bin/\(name)", "/opt/swift/usr/bin/\(name)"]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Runs `arguments` with standard output and error to `output` (and standard input from
  /// `input`), waiting on this thread — the watchdog's own, never the pool's. Kills it after
  /// `timeoutSeconds`; whether it ended by itself.
  private static func runToFile(_ arguments: [String], input: String? = nil, output: String, timeoutSeconds: Int) -> Bool {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, input ?? "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var pid: pid_t = 0
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else { return false }
    for _ in 0..<(timeoutSeconds * 10) {
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid { return true }
      usleep(100_000)  // the watchdog's own thread: nothing else waits on it
    }
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return false
  }
}
