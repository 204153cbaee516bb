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

  /// The history to check: refused operations left out, and an operation whose client timed
  /// out but which the log shows applied given that application as its return.
  ///
  /// Its effect took place when its entry committed, which is before any node applied it, so
  /// returning at the first application (with the output the state machine computed) keeps the
  /// interval around the true linearization point; it only makes the check stricter.
  func operationsToCheck(
    applications: [ClientCommandKey: SafetyOracle.FirstApplication]
  ) -> (operations: [HistoryOperation<KeyValueInput, KeyValueOutput>], resolved: Int) {
    var operations: [HistoryOperation<KeyValueInput, KeyValueOutput>] = []
    var resolved = 0
    for (handle, operation) in recorder.operations.enumerated() where !refused[handle] {
      var checked = operation
      if operation.returnTime == nil,
        let application = applications[ClientCommandKey(commands[handle])]
      {
        checked.outcome = .returned(application.output, returnTime: application.time)
        resolved += 1
      }
      operations.append(checked)
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
