import NIOCore
import O3Common
import O3RPC
import Synchronization

/// One RPC connection per OM of the service, opened on first use and opened again once it
/// closes, plus the node calls start at (the last one that answered or was failed over to).
///
/// Concurrent callers asking for a node that is connecting share that one connection attempt.
final class OMNodeConnections: Sendable {
  private enum Slot {
    case idle
    case connecting(Task<RPCClient, any Error>)
    case connected(RPCClient)
  }

  private struct State {
    var slots: [Slot]
    var currentIndex = 0
    var closed = false
  }

  let nodes: [OMNodeAddress]
  private let group: any EventLoopGroup
  private let connectTimeout: TimeAmount
  private let state: Mutex<State>

  init(nodes: [OMNodeAddress], group: any EventLoopGroup, connectTimeout: TimeAmount) {
    precondition(!nodes.isEmpty, "a client needs at least one OM")
    self.nodes = nodes
    self.group = group
    self.connectTimeout = connectTimeout
    self.state = Mutex(State(slots: Array(repeating: .idle, count: nodes.count)))
  }

  /// The node a new call tries first.
  var currentIndex: Int {
    get { state.withLock { $0.currentIndex } }
    set {
      precondition(nodes.indices.contains(newValue), "the current node is one of the nodes")
      state.withLock { $0.currentIndex = newValue }
    }
  }

  /// The open connection to node `index`, connecting first when there is none or it closed.
  ///
  /// - Throws: `OzoneClientError.closed` after `close()`; otherwise the connection error
  ///   (`RPCError.connectFailed` naming the address).
  func client(_ index: Int) async throws -> RPCClient {
    enum Next {
      case use(RPCClient)
      case wait(Task<RPCClient, any Error>)
      case closed
    }
    let next = state.withLock { state -> Next in
      guard !state.closed else { return .closed }
      switch state.slots[index] {
      case .connected(let client) where client.isActive:
        return .use(client)
      case .connecting(let task):
        return .wait(task)
      case .idle, .connected:
        let task = connectTask(nodes[index].address)
        state.slots[index] = .connecting(task)
        return .wait(task)
      }
    }
    switch next {
    case .use(let client): return client
    case .closed: throw OzoneClientError.closed
    case .wait(let task): return try await finish(task, index: index)
    }
  }

  private func connectTask(_ address: HostAndPort) -> Task<RPCClient, any Error> {
    let group = self.group
    let connectTimeout = self.connectTimeout
    return Task {
      try await RPCClient.connect(host: address.host, port: address.port, group: group, connectTimeout: connectTimeout)
    }
  }

  /// Publishes the outcome of a connection attempt; every waiter on the same attempt runs this.
  private func finish(_ task: Task<RPCClient, any Error>, index: Int) async throws -> RPCClient {
    let client: RPCClient
    do {
      client = try await task.value
    } catch {
      state.withLock { state in
        if case .connecting(let pending) = state.slots[index], pending == task { state.slots[index] = .idle }
      }
      throw error
    }
    let open = state.withLock { state -> Bool in
      guard !state.closed else { return false }
      if case .connecting(let pending) = state.slots[index], pending == task { state.slots[index] = .connected(client) }
      return true
    }
    guard open else {
      await client.close()
      throw OzoneClientError.closed
    }
    return client
  }

  /// Closes every connection; calls made afterwards fail with `OzoneClientError.closed`.
  func close() async {
    let slots = state.withLock { state -> [Slot] in
      state.closed = true
      defer { state.slots = Array(repeating: .idle, count: state.slots.count) }
      return state.slots
    }
    for slot in slots {
      switch slot {
      case .idle: break
      case .connected(let client): await client.close()
      case .connecting(let task): if let client = try? await task.value { await client.close() }
      }
    }
  }
}
