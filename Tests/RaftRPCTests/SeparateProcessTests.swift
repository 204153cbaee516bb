#if os(Linux)
  import Foundation
  import NIOCore
  import NIOPosix
  import RaftCore
  import O3TestSupport
  import Testing

  @testable import RaftRPC

  /// Three peers in three processes: this test process is peer 1 and starts two more copies of
  /// the test binary, each running only `childPeerProcess` (disabled unless the environment names
  /// a peer). They find each other through files in a temporary directory: each child writes its
  /// port, the parent writes the address book once it knows every port.
  @Suite(.watchdog, .timeLimit(.minutes(3))) struct SeparateProcessTests {
    static let heartbeatsPerPeer: UInt64 = 200
    static let peers: [PeerID] = [1, 2, 3]
    static let peerVariable = "RAFTRPC_TEST_CHILD_PEER"
    static let directoryVariable = "RAFTRPC_TEST_CHILD_DIRECTORY"

    static var childPeer: PeerID? {
      ProcessInfo.processInfo.environment[peerVariable].flatMap(UInt64.init).map { PeerID($0) }
    }

    @Test(.enabled(if: childPeer == nil))
    func threePeersInSeparateProcessesExchangeInOrder() async throws {
      let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("raftrpc-\(UInt64.random(in: 1...UInt64.max))").path
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      var children: [ManagedProcess] = []
      for peer: PeerID in [2, 3] { children.append(try await spawnChild(peer, directory: directory)) }
      defer {
        for child in children { child.sendKill() }
      }
      try await withEventLoopGroup { group in
        let me = try await TestPeer.start(1, group: group)
        var addresses = [PeerID(1): me.address]
        for child: PeerID in [2, 3] {
          try await waitUntil("child peer \(child) wrote its port") {
            readFile(directory, "\(child).port") != nil
          }
          addresses[child] = "127.0.0.1:\(readFile(directory, "\(child).port")!)"
        }
        let book = Self.peers.map { "\($0) \(addresses[$0]!)" }.joined(separator: "\n")
        try await writeFileAtomically(directory, "addresses", book)

        let problems = await Self.exchange(as: me, addressBook: book, directory: directory)
        #expect(problems == [])
        for child: PeerID in [2, 3] {
          try await waitUntil("child peer \(child) reported its result") {
            readFile(directory, "\(child).result") != nil
          }
          #expect(readFile(directory, "\(child).result") == "ok", "peer \(child)")
        }
        me.transport.send(
          [2, 3].map { RaftMessage(from: 1, to: PeerID($0), term: 1, body: .timeoutNow) })
        try await waitUntil("both children exited") { children.allSatisfy { !$0.isRunning } }
        for (child, process) in zip([2, 3], children) {
          #expect(
            process.exitStatus == 0,
            "peer \(child) failed; its output: \(readFile(directory, "\(child).log") ?? "")")
        }
        await me.transport.shutdown()
      }
    }

    /// The body of a child process; skipped in an ordinary test run.
    @Test(.enabled(if: childPeer != nil))
    func childPeerProcess() async throws {
      let id = try #require(Self.childPeer)
      let directory = try #require(ProcessInfo.processInfo.environment[Self.directoryVariable])
      try await withEventLoopGroup { group in
        let me = try await TestPeer.start(id, group: group)
        try await writeFileAtomically(directory, "\(id).port", "\(me.transport.localPort)")
        try await waitUntil("the parent wrote the address book") {
          readFile(directory, "addresses") != nil
        }
        let problems = await Self.exchange(
          as: me, addressBook: readFile(directory, "addresses")!, directory: directory)
        try await writeFileAtomically(
          directory, "\(id).result", problems.isEmpty ? "ok" : problems.joined(separator: "; "))
        #expect(problems == [])
        try await waitUntil("peer 1 says stop") {
          me.inbox.messages(from: 1).contains { $0.body == .timeoutNow }
        }
        await me.transport.shutdown()
      }
    }

    /// Sets the addresses of the book, waits until every peer has (a transport refuses batches
    /// from peers it has no address for), sends numbered heartbeats to every other peer and waits
    /// until every other peer's arrived. Returns what went wrong; empty when nothing did.
    static func exchange(as me: TestPeer, addressBook: String, directory: String) async -> [String] {
      for line in addressBook.split(separator: "\n") {
        let fields = line.split(separator: " ")
        let peer = PeerID(UInt64(fields[0])!)
        if peer != me.id { me.transport.setAddress(String(fields[1]), of: peer) }
      }
      let others = peers.filter { $0 != me.id }
      do {
        try await writeFileAtomically(directory, "\(me.id).ready", "")
        try await waitUntil("every peer knows the others' addresses") {
          peers.allSatisfy { readFile(directory, "\($0).ready") != nil }
        }
      } catch {
        return ["peer \(me.id) did not see every peer ready: \(error)"]
      }
      for number in 1...heartbeatsPerPeer {
        me.transport.send(others.map { numberedHeartbeat(from: me.id, to: $0, number) })
      }
      func numbers(from peer: PeerID) -> [UInt64] {
        heartbeatNumbers(me.inbox.messages(from: peer))
      }
      do {
        try await waitUntil("peer \(me.id) received every heartbeat") {
          others.allSatisfy { numbers(from: $0).count == Int(heartbeatsPerPeer) }
        }
      } catch {
        return ["peer \(me.id) received \(others.map { numbers(from: $0).count }) heartbeats"]
      }
      var problems: [String] = []
      for other in others where numbers(from: other) != Array(1...heartbeatsPerPeer) {
        problems.append("peer \(me.id) received the heartbeats of \(other) out of order")
      }
      let dropped = me.transport.statistics.peers.values.reduce(0) { $0 + $1.messagesDroppedTotal }
      if dropped > 0 {
        problems.append("peer \(me.id) dropped \(dropped) messages")
      }
      return problems
    }

    private func spawnChild(_ peer: PeerID, directory: String) async throws -> ManagedProcess {
      try await ManagedProcess.start(
        executable: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
        arguments: ["--testing-library", "swift-testing", "--filter", "childPeerProcess"],
        output: .logFile("\(directory)/\(peer).log"),
        environment: [Self.peerVariable: "\(peer)", Self.directoryVariable: directory])
    }
  }

  private func readFile(_ directory: String, _ name: String) -> String? {
    try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
  }

  /// Writes through a temporary name and a rename, so a reader never sees half a file (off the
  /// cooperative pool: the write fsyncs).
  private func writeFileAtomically(_ directory: String, _ name: String, _ text: String) async throws {
    try await writeTextFile(text, to: "\(directory)/\(name)")
  }
#endif
