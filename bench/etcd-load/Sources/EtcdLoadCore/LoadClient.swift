import NIOCore
import NIOHTTP2

/// One client: makes a call, waits for its answer, makes the next, until the run says stop.
///
/// All of a client's work happens on its connection's event loop, from callbacks; no task or
/// thread is spent per client.
final class LoadClient: @unchecked Sendable {
  // @unchecked: `issued` is touched only on `connection.channel.eventLoop`; the rest never changes.
  private let id: Int
  private let connection: LoadConnection
  private let control: RunControl
  private let template: KVRequestTemplate
  private var issued = 0

  init(id: Int, connection: LoadConnection, control: RunControl, template: KVRequestTemplate) {
    self.id = id
    self.connection = connection
    self.control = control
    self.template = template
  }

  func start() {
    connection.channel.eventLoop.execute { self.issueNext() }
  }

  private func issueNext() {
    guard connection.channel.isActive, let index = control.nextIndex(client: id, issuedByClient: issued) else {
      control.clientFinished()
      return
    }
    issued += 1
    let call = PendingCall(began: NIODeadline.now())
    let message = template.message(index: index, allocator: connection.channel.allocator)
    let headers = connection.headers
    let created = connection.channel.eventLoop.makePromise(of: (any Channel).self)
    created.futureResult.whenFailure { error in self.completed(.failed("stream not opened: \(error)"), call: call) }
    connection.multiplexer.createStreamChannel(promise: created) { stream in
      stream.eventLoop.makeCompletedFuture {
        let handler = GRPCCallHandler(headers: headers, message: message) { result in
          self.completed(result, call: call)
        }
        try stream.pipeline.syncOperations.addHandler(handler)
      }
    }
  }

  /// Counts a call once, even when both its stream and its handler report an end.
  private func completed(_ result: GRPCCallResult, call: PendingCall) {
    guard !call.done else { return }
    call.done = true
    switch result {
    case .succeeded:
      let nanoseconds = NIODeadline.now().uptimeNanoseconds - call.began.uptimeNanoseconds
      connection.histogram.record(nanoseconds / 1000)
    case .failed(let message):
      connection.recordFailure(message)
    }
    issueNext()
  }
}

/// One call in flight: when it began, and whether it has been counted.
final class PendingCall: @unchecked Sendable {
  // @unchecked: `done` is touched only on the event loop of the connection that made the call.
  let began: NIODeadline
  var done = false

  init(began: NIODeadline) {
    self.began = began
  }
}
