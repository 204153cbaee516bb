import Foundation

/// Ctrl-C during a freon run: the first press stops new operations so the run still reports what
/// it measured (as Ozone's freon prints its report from a shutdown hook); a second press exits at
/// once, for when the operations in flight hang.
final class FreonInterruption {
  private let source: any DispatchSourceSignal

  init(onFirstPress: @escaping @Sendable () -> Void) {
    let once = OnceFlag()
    signal(SIGINT, SIG_IGN)
    source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler {
      if once.take() {
        let notice = "\ninterrupted: finishing the operations in flight (Ctrl-C again to quit)\n"
        FileHandle.standardError.write(Data(notice.utf8))
        onFirstPress()
      } else {
        exit(130)
      }
    }
    source.resume()
  }

  /// Gives Ctrl-C back its default meaning.
  func remove() {
    source.cancel()
    signal(SIGINT, SIG_DFL)
  }
}
