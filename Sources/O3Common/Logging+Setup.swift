import Logging

/// Process-wide logging set-up: one line per event on standard error, so that output survives
/// SIGTERM (stdout to a pipe is block-buffered and lost, see SWIFT-SETUP.md).
public enum O3Logging {
  public static func bootstrap(level: Logger.Level = .info) {
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
  }
}
