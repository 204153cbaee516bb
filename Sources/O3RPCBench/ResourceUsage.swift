#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// CPU time (user + system) this process has used so far, in microseconds.
func processCPUMicroseconds() -> Int64 {
  var usage = rusage()
  #if canImport(Glibc)
    let who = __rusage_who_t(RUSAGE_SELF.rawValue)
  #else
    let who = RUSAGE_SELF
  #endif
  precondition(getrusage(who, &usage) == 0, "getrusage failed")
  func microseconds(_ time: timeval) -> Int64 {
    Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_usec)
  }
  return microseconds(usage.ru_utime) + microseconds(usage.ru_stime)
}
