/// The key-value operations the simulated clients ran, as the linearizability checker needs
/// them, plus what the cluster itself knows about operations whose client never heard back.
struct ClientHistory {
  private(set) var recorder = HistoryRecorder<KeyValueInput, KeyValueOutput>()
  private var commands: [ClientCommand] = []
  private var refused: [Bool] = []
  private var refusedCommands: Set<ClientCommandKey> = []

  mutating func invoke(_ command: ClientCommand, at time: UInt64) -> Int {
    commands.append(command)
    refused.append(false)
    return recorder.invoke(clientID: command.clientID, input: command.input, at: time)
  }

  mutating func complete(_ handle: Int, output: KeyValueOutput, at time: UInt64) {
    recorder.complete(handle, output: output, at: time)
  }

  /// Every try of the operation was refused: it certainly had no effect.
  mutating func markRefused(_ handle: Int) {
    refused[handle] = true
    refusedCommands.insert(ClientCommandKey(commands[handle]))
  }

  func wasRefused(_ command: ClientCommand) -> Bool {
    refusedCommands.contains(ClientCommandKey(command))
  }

  /// The history to check once the cluster has converged: refused operations left out, and
  /// an operation whose client never heard back settled by what the log shows.
  ///
  /// * Applied somewhere: its effect took place when its entry committed, before any node
  ///   applied it, so it returns at the first application with the output the state machine
  ///   computed. The interval still holds the true linearization point; the check only gets
  ///   stricter.
  /// * Never applied: after convergence every live member holds one log, all of it committed
  ///   and applied, so an entry outside it can no longer commit (no node holding it can win an
  ///   election against that log). The operation had no effect; it is left out. Keeping it with
  ///   an unknown outcome would be as correct, but each one doubles the orders the checker may
  ///   have to try.
  func settledOperations(
    applications: [ClientCommandKey: SafetyOracle.FirstApplication]
  ) -> (operations: [HistoryOperation<KeyValueInput, KeyValueOutput>], resolved: Int) {
    var operations: [HistoryOperation<KeyValueInput, KeyValueOutput>] = []
    var resolved = 0
    for (handle, operation) in recorder.operations.enumerated() where !refused[handle] {
      guard operation.returnTime == nil else {
        operations.append(operation)
        continue
      }
      guard let application = applications[ClientCommandKey(commands[handle])] else { continue }
      var settled = operation
      settled.outcome = .returned(application.output, returnTime: application.time)
      resolved += 1
      operations.append(settled)
    }
    return (operations, resolved)
  }
}

/// One simulated client: one operation at a time, retried on refusals, abandoned on timeout.
struct SimulatedClient {
  struct Operation {
    var handle: Int
    var request: ClientRequest
  }

  let id: UInt64
  var nextOperationID: UInt64 = 1
  var current: Operation?
  /// The node to try next (a leader hint, or a guess).
  var target = 0
  var livenessSuccesses = 0

  init(id: UInt64) {
    self.id = id
  }
}
