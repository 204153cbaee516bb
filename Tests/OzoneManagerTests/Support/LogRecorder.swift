import Logging
import Synchronization

/// Keeps the messages an OM logs at info and above, so that a test can check the exact lines
/// the operator's documentation quotes. Bounded: past `linesMax` the oldest lines go.
final class LogRecorder: Sendable {
  static let linesMax = 10_000
  private let lines = Mutex<[String]>([])

  /// Messages logged so far, oldest first, as `LEVEL message`.
  var recorded: [String] { lines.withLock { $0 } }

  /// The lines that contain `text`.
  func lines(containing text: String) -> [String] { recorded.filter { $0.contains(text) } }

  /// A logger that records here (and prints too when `O3_TEST_LOG` is set, like the others).
  func logger(label: String, printing: Bool) -> Logger {
    Logger(label: label) { [self] label in
      let recording = Handler(recorder: self)
      guard printing else { return recording }
      var printed = StreamLogHandler.standardError(label: label)
      printed.logLevel = .debug
      return MultiplexLogHandler([recording, printed])
    }
  }

  fileprivate func append(_ line: String) {
    lines.withLock { lines in
      if lines.count >= Self.linesMax { lines.removeFirst(lines.count - Self.linesMax + 1) }
      lines.append(line)
    }
  }

  private struct Handler: LogHandler {
    let recorder: LogRecorder
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { metadata[key] }
      set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
      recorder.append("\(event.level.rawValue.uppercased()) \(event.message)")
    }
  }
}
