import NIOCore
import Synchronization

/// Answers posted to one connection from threads other than its event loop, delivered by one
/// event-loop task for however many arrived meanwhile.
///
/// A replicated write is answered from the apply thread, and one apply batch answers many calls
/// of the same connection: one `execute` per answer woke the event loop (an eventfd write and an
/// epoll return) for each of them.
final class RPCAnswerMailbox: Sendable {
  /// One answer waiting for the event loop.
  struct Answer: Sendable {
    let callId: UInt64
    let token: UInt64
    let outcome: Result<ByteBuffer, RPCRemoteError>
  }

  private struct State {
    var answers: [Answer] = []
    /// Whether a delivery task is scheduled and has not yet taken the answers.
    var deliveryScheduled = false
  }

  private let state = Mutex(State())

  /// Adds `answer`; returns true when the caller must schedule a delivery (none is pending).
  func post(_ answer: Answer) -> Bool {
    state.withLock { state in
      state.answers.append(answer)
      guard !state.deliveryScheduled else { return false }
      state.deliveryScheduled = true
      return true
    }
  }

  /// Takes every posted answer; answers posted from now on schedule a new delivery.
  func takeAll() -> [Answer] {
    state.withLock { state in
      state.deliveryScheduled = false
      let answers = state.answers
      state.answers = []
      return answers
    }
  }
}
