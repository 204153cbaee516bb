import Synchronization

/// True exactly once: for callbacks that may fire more than once but must act once.
final class OnceFlag: Sendable {
  private let taken = Atomic<Bool>(false)

  func take() -> Bool {
    !taken.exchange(true, ordering: .acquiringAndReleasing)
  }
}
