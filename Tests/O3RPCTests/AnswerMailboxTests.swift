import NIOCore
@testable import O3RPC
import O3TestSupport
import Testing

/// Answers from other threads share one event-loop delivery until it takes them.
@Suite(.watchdog) struct AnswerMailboxTests {
  private func answer(_ callId: UInt64) -> RPCAnswerMailbox.Answer {
    RPCAnswerMailbox.Answer(callId: callId, token: callId, outcome: .success(ByteBuffer(string: "\(callId)")))
  }

  @Test func onlyTheFirstAnswerSinceADeliverySchedulesAnother() {
    let mailbox = RPCAnswerMailbox()
    #expect(mailbox.post(answer(1)))
    #expect(!mailbox.post(answer(2)))
    #expect(!mailbox.post(answer(3)))
    #expect(mailbox.takeAll().map(\.callId) == [1, 2, 3])
    #expect(mailbox.takeAll().isEmpty)
    #expect(mailbox.post(answer(4)), "after a delivery took the answers, the next one schedules anew")
    #expect(mailbox.takeAll().map(\.callId) == [4])
  }
}
