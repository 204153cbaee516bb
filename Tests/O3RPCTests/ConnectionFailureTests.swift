import NIOCore
import NIOPosix
import O3TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@testable import O3RPC

/// `ConnectionFailure.describe` turns NIO's nested errors into the few words users and logs see.
@Suite(.watchdog) struct ConnectionFailureTests {
  /// A port nobody listens on: below the ephemeral range and handed out to this test alone.
  private func closedPort() throws -> Int { try FreePorts.allocate(1)[0] }

  @Test func aRefusedConnectionFromNIOIsConnectionRefused() async throws {
    let port = try closedPort()
    try await withEventLoopGroup { group in
      do {
        let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        try await channel.close()
        Issue.record("connecting to a closed port succeeded")
      } catch {
        // The raw error is NIO's "Connection errors: SingleConnectionFailure(target: …)".
        #expect(error is NIOConnectionError)
        #expect(ConnectionFailure.describe(error) == "connection refused")
      }
    }
  }

  @Test func rpcClientConnectFailsWithTheAddressAndTheShortReason() async throws {
    let port = try closedPort()
    try await withEventLoopGroup { group in
      do {
        _ = try await RPCClient.connect(host: "127.0.0.1", port: port, group: group)
        Issue.record("connecting to a closed port succeeded")
      } catch {
        #expect(error as? RPCError == .connectFailed(address: "127.0.0.1:\(port)", reason: "connection refused"))
        #expect("\(error)" == "cannot connect to 127.0.0.1:\(port): connection refused")
        #expect(ConnectionFailure.describe(error) == "connection refused")
      }
    }
  }

  @Test func timeoutsResetsAndUnreachableHostsHaveShortNames() {
    #expect(ConnectionFailure.describe(ChannelError.connectTimeout(.seconds(5))) == "timed out after 5 s")
    #expect(ConnectionFailure.describe(ChannelError.connectTimeout(.milliseconds(250))) == "timed out after 250 ms")
    #expect(ConnectionFailure.describe(IOError(errnoCode: ECONNRESET, reason: "read")) == "connection reset by peer")
    #expect(ConnectionFailure.describe(IOError(errnoCode: EHOSTUNREACH, reason: "connect")) == "host unreachable")
    #expect(ConnectionFailure.describe(IOError(errnoCode: ENETUNREACH, reason: "connect")) == "network unreachable")
    #expect(ConnectionFailure.describe(IOError(errnoCode: ETIMEDOUT, reason: "connect")) == "timed out")
    #expect(ConnectionFailure.describe(ChannelError.eof) == "the connection closed")
  }

  @Test func otherErrorsKeepTheirOwnDescription() {
    #expect(ConnectionFailure.describe(RPCError.deadlineExceeded) == RPCError.deadlineExceeded.description)
    #expect(ConnectionFailure.describe(IOError(errnoCode: EACCES, reason: "connect")).hasSuffix("(errno \(EACCES))"))
  }
}
