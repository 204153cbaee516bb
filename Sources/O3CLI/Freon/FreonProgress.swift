import Foundation

/// The progress of a freon run on standard error: one line redrawn in place on a terminal, a
/// plain line now and then when standard error is a file or a pipe.
struct FreonProgress: Sendable {
  /// How the progress is written.
  enum Style: Sendable {
    /// Redraws one line with a carriage return.
    case terminal
    /// Appends a whole line each time, for logs.
    case plain
  }

  /// A redrawn line changes at most four times a second: faster is unreadable and costs CPU the
  /// client should spend on load.
  static let terminalInterval: Duration = .milliseconds(250)
  /// A log gets a line every ten seconds: enough to see a long run move, few enough to read.
  static let plainInterval: Duration = .seconds(10)

  var name: String
  var plan: FreonPlan
  var style: Style
  /// Where the text goes; standard error unless a caller captures it.
  var write: @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }

  var interval: Duration { style == .terminal ? Self.terminalInterval : Self.plainInterval }

  /// Progress on standard error, styled for what standard error is.
  static func onStandardError(name: String, plan: FreonPlan) -> FreonProgress {
    FreonProgress(name: name, plan: plan, style: isatty(STDERR_FILENO) == 1 ? .terminal : .plain)
  }

  func show(succeeded: Int, failed: Int, elapsed: Duration) {
    let text = line(succeeded: succeeded, failed: failed, elapsed: elapsed)
    switch style {
    // "\u{1B}[K" clears what a longer previous line left to the right.
    case .terminal: write("\r" + text + "\u{1B}[K")
    case .plain: write(text + "\n")
    }
  }

  /// Leaves the last state on screen and moves below it, so the report starts on a fresh line.
  func finish(succeeded: Int, failed: Int, elapsed: Duration) {
    guard style == .terminal else { return }
    show(succeeded: succeeded, failed: failed, elapsed: elapsed)
    write("\n")
  }

  /// `omkg: 12000/20000 (60.0%), 0 failed, 5980 ops/s, 0:00:02` (a timed run shows
  /// `12000 done` and `0:00:02 of 0:00:30`).
  func line(succeeded: Int, failed: Int, elapsed: Duration) -> String {
    let done = succeeded + failed
    let seconds = FreonReport.seconds(elapsed)
    let rate = seconds > 0 ? Double(succeeded) / seconds : 0
    let position =
      plan.duration == nil
      ? String(format: "%d/%d (%.1f%%)", done, plan.count, 100 * Double(done) / Double(plan.count)) : "\(done) done"
    let time = plan.duration.map { "\(Self.clock(elapsed)) of \(Self.clock($0))" } ?? Self.clock(elapsed)
    return "\(name): \(position), \(failed) failed, \(String(format: "%.0f", rate)) ops/s, \(time)"
  }

  /// Hours, minutes and seconds: `1:02:03`.
  static func clock(_ duration: Duration) -> String {
    let seconds = max(0, duration.components.seconds)
    return String(format: "%lld:%02lld:%02lld", seconds / 3600, seconds / 60 % 60, seconds % 60)
  }
}
