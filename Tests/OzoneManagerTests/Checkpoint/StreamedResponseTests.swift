import Foundation
import OzoneManager
import Synchronization
import O3TestSupport
import Testing

/// The HTTP server's streamed bodies and POST routes, on their own.
@Suite(.watchdog) struct StreamedResponseTests {
  @Test func streamedBodyArrivesWholeAndPostIsOnlyForRoutesThatAcceptIt() async throws {
    let chunks = (0..<40).map { index in [UInt8](repeating: UInt8(index), count: 100_000) }
    let received = Mutex<[UInt8]>([])
    let server = try await OMHTTPServer.start(
      host: "127.0.0.1", port: 0,
      routes: [
        "/stream": { _ in
          OMHTTPResponse(
            contentType: "application/octet-stream",
            streamedBody: OMHTTPStreamedBody(produce: { write in for chunk in chunks { try await write(chunk) } }, discard: {}))
        },
        "/post": { request in
          received.withLock { $0 = request.body }
          return OMHTTPResponse(contentType: "text/plain", body: "\(request.method)")
        },
        "/get": { _ in OMHTTPResponse(contentType: "text/plain", body: "ok") },
      ],
      routesAcceptingPost: ["/post"])
    let port = server.localPort
    let streamed = try await fetch(port: port, path: "/stream")
    let posted = try await fetch(port: port, path: "/post", method: "POST", body: Data([1, 2, 3]))
    let refused = try await fetch(port: port, path: "/get", method: "POST", body: Data([1]))
    await server.shutdown()
    #expect(streamed.status == 200)
    #expect(streamed.body == chunks.flatMap { $0 })
    #expect(posted.status == 200 && received.withLock { $0 } == [1, 2, 3])
    #expect(refused.status == 405)
  }

  @Test func discardRunsForHeadInsteadOfTheProducer() async throws {
    let calls = Mutex<[String]>([])
    let server = try await OMHTTPServer.start(
      host: "127.0.0.1", port: 0,
      routes: [
        "/stream": { _ in
          OMHTTPResponse(
            contentType: "application/octet-stream",
            streamedBody: OMHTTPStreamedBody(
              produce: { _ in calls.withLock { $0.append("produce") } }, discard: { calls.withLock { $0.append("discard") } }))
        }
      ])
    let head = try await fetch(port: server.localPort, path: "/stream", method: "HEAD")
    await server.shutdown()
    #expect(head.status == 200 && head.body.isEmpty)
    #expect(calls.withLock { $0 } == ["discard"])
  }

  private func fetch(port: Int, path: String, method: String = "GET", body: Data? = nil) async throws -> FetchedReply {
    try await CheckpointHTTP.fetch(port: port, path: path, method: method, body: body)
  }
}
