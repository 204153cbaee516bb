/// Leadership transfer (Raft thesis §3.10).
extension RaftNode {
  /// Brings `target` up to date, then tells it to campaign at once. Proposals are refused until
  /// the transfer ends, so that the target can catch up; a transfer that does not finish within
  /// an election timeout is abandoned.
  mutating func startTransfer(to target: PeerID) {
    guard target != id, transferTarget != target, progress[target] != nil else { return }
    abortTransfer()
    transferTarget = target
    if progress[target]!.match == log.lastIndex {
      send(to: target, .timeoutNow)
    } else {
      sendAppends(to: target, allowEmpty: true)
    }
  }

  mutating func abortTransfer() {
    transferTarget = nil
    transferElapsedTicks = 0
  }
}
